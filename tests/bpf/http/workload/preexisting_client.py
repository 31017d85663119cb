"""Opens one keep-alive connection and sends a first request, then waits for a line on stdin
(the agent starts meanwhile) and sends 5 more requests on the same, already open connection.
Usage: preexisting_client.py PORT
"""
import http.client
import sys

conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
conn.request("GET", "/get/0?size=10")
conn.getresponse().read()
print("connected", flush=True)
sys.stdin.readline()
for i in range(1, 6):
    conn.request("GET", f"/get/{i}?size={i * 1000}")
    conn.getresponse().read()
conn.close()
print("done", flush=True)
