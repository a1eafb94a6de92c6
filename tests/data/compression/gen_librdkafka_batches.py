# Regenerates librdkafka_<codec>.batch: librdkafka (confluent-kafka-python, Debian) produces 200
# records per codec to tests/tools/mock_cluster; the first fetched batch is saved as is.
# Usage: /usr/bin/python3 gen_librdkafka_batches.py <out dir>  (MOCK_CLUSTER=path to the binary)
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../integration'))
import kafkawire
from confluent_kafka import Producer
proc = subprocess.Popen([os.environ.get('MOCK_CLUSTER', 'build/tests/tools/mock_cluster'), 't_gzip:1', 't_snappy:1', 't_lz4:1', 't_zstd:1'],
                        stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
line = proc.stdout.readline().strip()
bootstrap = line.split('=', 1)[1]
host, port = bootstrap.split(',')[0].rsplit(':', 1)
out = sys.argv[1]
try:
    for codec in ['gzip', 'snappy', 'lz4', 'zstd']:
        p = Producer({'bootstrap.servers': bootstrap, 'compression.type': codec, 'linger.ms': 50,
                      'enable.idempotence': True, 'batch.size': 1000000})
        for i in range(200):
            hdrs = [('h', b'v%d' % i)] if i % 5 == 0 else None
            p.produce('t_' + codec, key=(b'key-%d' % (i % 10)) if i % 3 else None,
                      value=(b'librdkafka %s record %d ' % (codec.encode(), i)) * (1 + i % 20),
                      headers=hdrs, partition=0, timestamp=1700000000000 + i)
        assert p.flush(10) == 0
        with kafkawire.KafkaConnection(host, int(port)) as c:
            batches = kafkawire.fetch_all_batches(c, 't_' + codec, 0)
        print(codec, [(b.records_count, b.compression, len(b.raw), b.crc_ok) for b in batches])
        open(os.path.join(out, 'librdkafka_%s.batch' % codec), 'wb').write(batches[0].raw)
finally:
    proc.terminate(); proc.wait()
