#!/bin/sh
# First start of the PostgreSQL container only: the schema's owner and the app's role, each
# without superuser rights; the app's role owns nothing, so it can never change the audit
# trail (README: PostgreSQL roles). Passwords come from deploy/.env.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$RD_OWNER_PASSWORD" -v app_password="$RD_APP_PASSWORD" <<'SQL'
CREATE ROLE rd_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE rd_app LOGIN PASSWORD :'app_password';
CREATE DATABASE recovery_desk OWNER rd_owner;
SQL
