"""region_events.py - the events a wrong schema cannot decode (e2e 0054, 0055).

usage: region_events.py FIXED.proto PYDIR BROKERS START_MS M PARTITIONS [KEYS]

Compiles FIXED.proto (PlayEvent with `int64 region = 99`) with protoc into
PYDIR and produces M PlayEvents to topic `events` with python-protobuf and
confluent-kafka: mid 700000+i, region -(i*7919)-1, event time START_MS +
600 s + i s (in hour 0 of START_MS's hour), which is also the Kafka
timestamp (kcat cannot set one), so their dead letters count in that hour.
PARTITIONS: comma-separated partitions used in turn; KEYS=1 gives each a key
"k<i>". A pipeline whose schema says `string region = 99` dead-letters all
of them.
"""
import importlib
import os
import subprocess
import sys

from confluent_kafka import Producer

proto, py, brokers = sys.argv[1], sys.argv[2], sys.argv[3]
start, m = int(sys.argv[4]), int(sys.argv[5])
parts = [int(x) for x in sys.argv[6].split(',')]
keys = len(sys.argv) > 7 and sys.argv[7] == '1'
os.makedirs(py, exist_ok=True)
subprocess.run(['protoc', '-I', os.path.dirname(proto), '--python_out', py, proto], check=True)
sys.path.insert(0, py)
pb = importlib.import_module(os.path.splitext(os.path.basename(proto))[0] + '_pb2')
p = Producer({'bootstrap.servers': brokers, 'enable.idempotence': True})
for i in range(m):
    t = start + 600000 + i * 1000
    e = pb.PlayEvent(log_id='001000', mid=700000 + i, play_seconds=i, event_time_ms=t,
                     region=-(i * 7919) - 1)
    p.produce('events', value=e.SerializeToString(), key=(b'k%d' % i) if keys else None,
              partition=parts[i % len(parts)], timestamp=t)
assert p.flush(30) == 0
