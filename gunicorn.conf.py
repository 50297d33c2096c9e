"""gunicorn reads this file from the working directory: its own log lines (start, worker
boot, worker timeout) take riffweb's format too, so `LOG_FORMAT=json` means every line."""

import os

from riffweb import logs

logconfig_dict = logs.config(os.environ.get("LOG_FORMAT", "plain"), os.environ.get("LOG_LEVEL", "INFO"))
