"""The pipeline's jobs and their command lines, without Qt.

- `jobs/`: the jobs as generators of events (teacher, pseudo data, distil, finetune, evaluate, import-nerf) and
  `pipeline`, which runs them by name;
- `training/`: what the training jobs share (the loop, student steps, ray streams, hard examples, views,
  schedules);
- `distributed.py`: the ranks of a torchrun run and the few collectives the jobs use;
- `video/`: `r2l-render`'s job (frames along a camera path into an mp4 or PNGs);
- `storage/`: files on disk (the run's workspace, scene checkpoint entries, pseudo-data shards, resume);
- `export/`: the student as an ONNX graph, and running it with onnxruntime;
- `bench/`: what `r2l-bench` measures and how it prints it;
- `cli/`: the console scripts (`r2l-train`, `r2l-eval`, `r2l-bench`, `r2l-render`) and their flags and progress bars;
- `configs`, `presets`, `events`, `inspection`: the job settings, named presets, what jobs yield, describe/check-data.
"""
