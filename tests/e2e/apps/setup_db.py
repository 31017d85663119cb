"""Creates the shop's tables (run once, untraced, before the services start)."""
import psycopg2

conn = psycopg2.connect("")  # PG* environment variables
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, name text NOT NULL,"
                " price numeric(10, 2) NOT NULL)")
    cur.execute("INSERT INTO items SELECT g, 'item ' || g, g * 1.25 FROM generate_series(1, 50) g"
                " ON CONFLICT DO NOTHING")
    cur.execute("CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, request_id text,"
                " item_id integer, created timestamptz DEFAULT now())")
conn.close()
print("schema ready", flush=True)
