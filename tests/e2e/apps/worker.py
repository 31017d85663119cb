"""The e2e test's worker: a plain pika BlockingConnection consumer. Per message one psycopg2
INSERT (autocommit) whose RETURNING alias carries the message id (`AS r_<id>`, an identifier, so
it stays visible after sanitizing), then a manual ack. It knows nothing about OpenTelemetry.

Waits for a line on stdin before connecting (so its connections are traced from their start),
then prints "consuming". Environment: PG*, AMQP_URL, QUEUE.
"""
import json
import os
import re
import sys

import pika
import psycopg2

sys.stdin.readline()
db = psycopg2.connect("")
db.autocommit = True
params = pika.URLParameters(os.environ["AMQP_URL"])
conn = pika.BlockingConnection(params)
channel = conn.channel()
queue = os.environ["QUEUE"]
channel.queue_declare(queue=queue, durable=False)
channel.basic_qos(prefetch_count=1)
_RID = re.compile(r"^[0-9a-z]{1,40}$")


def on_message(ch, method, properties, body):
    rid = properties.message_id or ""
    item = json.loads(body).get("item", 0)
    alias = f"r_{rid}" if _RID.match(rid) else "r_unknown"
    with db.cursor() as cur:
        cur.execute(f"INSERT INTO orders (request_id, item_id) VALUES (%s, %s) RETURNING id AS {alias}",
                    (rid, item))
        cur.fetchone()
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_consume(queue=queue, on_message_callback=on_message, auto_ack=False)
print("consuming", flush=True)
try:
    channel.start_consuming()
except KeyboardInterrupt:
    pass
