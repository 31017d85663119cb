"""The e2e test's web service: an ordinary FastAPI application on uvicorn, with asyncpg, redis-py
(asyncio) and aio-pika. It knows nothing about OpenTelemetry; like many services that propagate
headers by hand, it forwards the request's `traceparent` header (when there is one) in the
headers of the message it publishes, and it uses the caller's X-Request-Id in names that stay
visible after the agent sanitizes statements:

* SQL: a column alias `AS rid_<id>` (identifiers survive sanitizing; literals and comments don't);
* Redis: the key `item:<id>` (keys are kept, values are not);
* AMQP: the message id.

Environment: PG* (libpq variables), REDIS_URL, AMQP_URL, QUEUE.
"""
import asyncio
import json
import os
import re

import aio_pika
import asyncpg
import redis.asyncio as aioredis
from fastapi import FastAPI, Header, HTTPException, Request

app = FastAPI()
_state = {}
_init_lock = asyncio.Lock()
_RID = re.compile(r"^[0-9a-z]{1,40}$")


async def resources():
    # Connections are opened on first use, i.e. once the agent traces this process.
    if "ready" in _state:
        return _state
    async with _init_lock:
        if "ready" not in _state:
            _state["pg"] = await asyncpg.create_pool(min_size=2, max_size=16)
            _state["redis"] = aioredis.from_url(os.environ["REDIS_URL"], max_connections=32)
            conn = await aio_pika.connect(os.environ["AMQP_URL"])
            channel = await conn.channel()
            await channel.declare_queue(os.environ["QUEUE"], durable=False)
            _state["amqp"] = conn
            _state["channel"] = channel
            _state["ready"] = True
    return _state


@app.get("/health")
async def health():
    return {"ok": True}


@app.get("/warmup")
async def warmup():
    s = await resources()
    async with s["pg"].acquire() as c:
        await c.fetchval("SELECT count(*) FROM items")
    await s["redis"].ping()
    return {"ok": True}


@app.get("/items/{item_id}")
async def get_item(item_id: int, request: Request, x_request_id: str = Header(...)):
    if not _RID.match(x_request_id):
        raise HTTPException(status_code=400, detail="bad request id")
    rid = x_request_id
    s = await resources()
    await asyncio.sleep(0.02)  # let concurrent requests overlap
    row = await s["pg"].fetchrow(
        f"SELECT id, name, price AS rid_{rid} FROM items WHERE id = $1", (item_id % 50) + 1)
    key = f"item:{rid}"
    cached = await s["redis"].get(key)
    body = {"id": row["id"], "name": row["name"], "price": str(row[f"rid_{rid}"]),
            "cached": cached is not None}
    await s["redis"].set(key, json.dumps(body), ex=300)
    headers = {}
    traceparent = request.headers.get("traceparent")
    if traceparent:
        headers["traceparent"] = traceparent
        if request.headers.get("tracestate"):
            headers["tracestate"] = request.headers["tracestate"]
    await s["channel"].default_exchange.publish(
        aio_pika.Message(json.dumps({"rid": rid, "item": row["id"]}).encode(), message_id=rid,
                         headers=headers, content_type="application/json"),
        routing_key=os.environ["QUEUE"])
    return body
