"""Many sensors, one view: sensors publish their typed observations to NATS JetStream, correlators build
incidents from them (docs/deploy.md, "Many sensors").

wire.py is what crosses the network (JSON, validated as hostile input); jetstream.py connects and keeps
the stream; publish.py is a sensor's side (`analyze --nats`, `live --nats`); consume.py reads one
partition of hosts; correlator.py turns its messages into verdicts and incidents; facts.py is what
correlators of different partitions tell one another (what joins their hosts); resume.py lets a
restarted correlator go on where its output file ends.
"""
