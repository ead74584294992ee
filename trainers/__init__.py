"""The pipeline's jobs (train teacher, pseudo data, distill, finetune, evaluate) as generators, and their CLIs."""
