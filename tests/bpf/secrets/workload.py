"""Talks to PostgreSQL, Redis and RabbitMQ with recognizable secrets: passwords, SQL literals,
Redis values and AMQP credentials. The test then searches everything the agent printed.
Usage: workload.py PG_DSN REDIS_URL AMQP_URL   (waits for a line on stdin first)
"""
import sys

import pika
import psycopg2
import redis

sys.stdin.readline()
pg_dsn, redis_url, amqp_url = sys.argv[1:4]

conn = psycopg2.connect(pg_dsn)
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE TABLE IF NOT EXISTS vault (id int, secret text, card bigint)")
cur.execute("INSERT INTO vault VALUES (1, 'LiteralSecretAlpha', 4111222233334444)")
cur.execute("SELECT * FROM vault WHERE secret = 'LiteralSecretAlpha' AND card = 4111222233334444")
cur.fetchall()
cur.execute("SELECT * FROM vault WHERE secret = %s", ("ParamSecretBeta",))
cur.fetchall()
conn.close()

r = redis.Redis.from_url(redis_url)
r.set("session:1", "RedisValueGamma")
r.get("session:1")
r.hset("user:1", mapping={"token": "RedisHashDelta"})
r.close()

connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
ch = connection.channel()
ch.queue_declare("secrets")
ch.basic_publish("", "secrets", b"AmqpBodyEpsilon")
ch.basic_get("secrets", auto_ack=True)
connection.close()
print("done", flush=True)
