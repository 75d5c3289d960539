"""Settings shared by every gunicorn started from the project's root (`make run`, the container,
the benchmarks); the command lines give the rest (bind address, workers, threads)."""

# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections across them. With the one socket they used to share, the worker that woke first
# accepted a whole burst of connections, and kept-alive connections stay with the worker that
# accepted them: under 32 keep-alive clients, all 32 sat on one of the two workers in two
# trials of three, served on one core (one process, one GIL) while the other core idled
# (issue 18: GET /api/analyses/{id} at 187-250 req/s; with this, 294-332 req/s and 13-19
# connections per worker).
reuse_port = True
