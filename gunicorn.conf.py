"""Gunicorn settings for `make serve` (and `make run`); command-line options override them.

Environment: SURVEY_WORKERS (default: 2 per core), SURVEY_THREADS (default 2 per worker),
SURVEY_TIMEOUT (seconds, default 120: a PDF of many printed sheets takes a while).
"""

import os

workers = int(os.environ.get("SURVEY_WORKERS") or 2 * (os.cpu_count() or 1))
# Threads keep a worker answering while another request waits on a slow 3G upload; the work
# itself is CPU-bound, so a few suffice. Behind nginx (which buffers slow clients) 1 is fine.
threads = int(os.environ.get("SURVEY_THREADS") or 2)
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("SURVEY_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so that memory a rare large export took is given back.
max_requests = 20000
max_requests_jitter = 2000
# Each worker opens its own database connections after the fork: never share a connection.
preload_app = False
# No access log: its lines would pair a citizen's IP address with the counter's link.
accesslog = None
errorlog = "-"
loglevel = "info"
# Limits on what a client can send before the application sees it.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn's control socket (one per user by default) is not used; two servers would share it.
control_socket_disable = True
