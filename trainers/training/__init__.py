"""What the training jobs share: the loop, student steps, hard examples, sets of views, schedules."""
