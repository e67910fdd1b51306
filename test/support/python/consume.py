"""A librdkafka consumer (confluent-kafka) as an application under migration runs one.

    python consume.py BOOTSTRAP GROUP TOPIC PROTOCOL

PROTOCOL is `consumer` (KIP-848) or `classic`. It subscribes, commits what it consumed (auto
commit), prints "assigned N partitions" when its assignment changes and "consumed N" as it goes,
and on SIGTERM closes the consumer, which leaves the group, then prints "closed".
"""

import signal
import sys

from confluent_kafka import Consumer, KafkaException

bootstrap, group, topic, protocol = sys.argv[1:5]
config = {
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "group.protocol": protocol,
    "client.id": f"librdkafka-{protocol}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": True,
    "auto.commit.interval.ms": 200,
}
consumer = Consumer(config)
assigned = set()
running = True


def stop(_signum, _frame):
    global running
    running = False


def on_assign(_consumer, partitions):
    # Under the consumer protocol librdkafka assigns incrementally; keep the whole set.
    assigned.update(p.partition for p in partitions)
    print(f"assigned {len(assigned)} partitions", flush=True)


def on_revoke(_consumer, partitions):
    assigned.difference_update(p.partition for p in partitions)
    print(f"assigned {len(assigned)} partitions", flush=True)


signal.signal(signal.SIGTERM, stop)
consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
consumed = 0
try:
    while running:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            raise KafkaException(message.error())
        consumed += 1
        if consumed % 10 == 0:
            print(f"consumed {consumed}", flush=True)
finally:
    consumer.close()
    print(f"closed after consuming {consumed}", flush=True)
