# Read by the flask command only (never by gunicorn): a checkout is a development site.
RD_ENV=development
