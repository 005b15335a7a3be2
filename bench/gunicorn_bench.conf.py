"""gunicorn settings for the benches: none beyond their command lines.

gunicorn reads ./gunicorn.conf.py from its working directory when no -c is
given, so the project's server (started in the repository) got the production
file's access log and max_requests recycling while the baseline (started in
bench/baseline) got neither: an unequal comparison, and a memory section whose
worker was replaced mid-run. Both sides now start with this empty file.
"""
