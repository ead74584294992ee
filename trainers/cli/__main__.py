"""`python -m trainers.cli` (and `torchrun ... -m trainers.cli`) runs `r2l-train`."""

import sys

from trainers.cli.train import main

sys.exit(main())
