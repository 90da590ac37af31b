"""The worker: runs queued jobs and the periodic schedule (see ``core/jobs.py``)."""
