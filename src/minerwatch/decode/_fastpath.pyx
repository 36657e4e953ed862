# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled hot path: capture records -> decoded headers -> flow lookup -> (rarely) Python.

Why one compiled module: at a million packets a second there is one microsecond per packet, and a single
Python object or call per packet spends it. So walking pcap/pcapng records, decoding link/IP/TCP/UDP headers
and finding the packet's flow happen here, in C, with no per-packet object. Python code (flows/, protocols/,
detectors/) is called only for what detection needs: a new flow, and payload or TCP control segments of
flows still under inspection. A flow that detection gave up on is bypassed: counted here, never parsed.

Worst case per packet: O(header bytes) plus one dict lookup; memory is bounded by `max_flows`.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from minerwatch.decode._flowstats cimport CheckpointGate, StatsAccumulator
from minerwatch.decode._httpgate cimport (
    GATE_BYPASS,
    GATE_CONSUMED,
    GATE_HANDOVER,
    GateConfig,
    HttpGate,
    request_line_start,
)
from minerwatch.decode._tlsrecords cimport TlsRecords, opening

# Link types (https://www.tcpdump.org/linktypes.html)
cdef enum:
    LT_NULL = 0
    LT_ETHERNET = 1
    LT_RAW = 101
    LT_RAW_OPENBSD = 12
    LT_RAW_ALT = 14
    LT_LOOP = 108
    LT_LINUX_SLL = 113
    LT_IPV4 = 228
    LT_IPV6 = 229
    LT_LINUX_SLL2 = 276

cdef enum:
    ETH_IPV4 = 0x0800
    ETH_IPV6 = 0x86DD
    ETH_VLAN = 0x8100
    ETH_QINQ = 0x88A8
    ETH_QINQ_OLD = 0x9100
    ETH_PPPOE = 0x8864

cdef enum:
    TCP_FIN = 0x01
    TCP_SYN = 0x02
    TCP_RST = 0x04
    TCP_PSH = 0x08
    TCP_ACK = 0x10

cdef enum:
    MAX_RECORD = 262144 * 4   # larger record lengths mean a corrupt file, as libpcap judges

# AF_PACKET TPACKET_V3 ring layout (linux/if_packet.h): block header and per-packet header sizes (the
# packet header is followed by a sockaddr_ll whose sll_pkttype is byte 58), block status values, and
# sll_pkttype of a frame the host sent.
cdef enum:
    TP_BLOCK_HEADER = 48
    TP_PACKET_HEADER = 68
    TP_STATUS_KERNEL = 0
    TP_STATUS_USER = 1
    PACKET_OUTGOING = 4

cdef extern from *:
    void __sync_synchronize() nogil

# Timestamps past 9999-12-31 (or before 1970) come from corrupt records: ISO 8601 cannot write them.
cdef double MAX_TIMESTAMP = 253402300799.0

# The longest record or block a reader must be ready to hold.
MAX_RECORD_BYTES = MAX_RECORD + 64

SUPPORTED_LINKTYPES = frozenset(
    (LT_NULL, LT_ETHERNET, LT_RAW, LT_RAW_OPENBSD, LT_RAW_ALT, LT_LOOP, LT_LINUX_SLL, LT_IPV4, LT_IPV6,
     LT_LINUX_SLL2)
)


cdef inline uint16_t be16(const uint8_t* p) noexcept nogil:
    return (<uint16_t>p[0] << 8) | p[1]


cdef inline uint32_t be32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef inline uint32_t le32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[3] << 24) | (<uint32_t>p[2] << 16) | (<uint32_t>p[1] << 8) | p[0]


cdef inline uint16_t le16(const uint8_t* p) noexcept nogil:
    return (<uint16_t>p[1] << 8) | p[0]


cdef inline uint32_t rd32(const uint8_t* p, bint swapped) noexcept nogil:
    return be32(p) if swapped else le32(p)


cdef inline uint32_t ne32(const uint8_t* p) noexcept nogil:
    return (<const uint32_t*>p)[0]    # native order: the kernel's ring headers, 4-byte aligned


cdef inline uint16_t rd16(const uint8_t* p, bint swapped) noexcept nogil:
    return be16(p) if swapped else le16(p)


cdef class Flow:
    """One bidirectional flow. The client is the side that sent the first packet (or the SYN)."""

    cdef public long long flow_id
    cdef public int proto
    cdef public int ip_version
    cdef public bytes client_addr
    cdef public bytes server_addr
    cdef public int client_port
    cdef public int server_port
    cdef public double first_ts
    cdef public double last_ts
    cdef public long long pkts_toserver
    cdef public long long pkts_toclient
    cdef public long long bytes_toserver
    cdef public long long bytes_toclient
    cdef public long long bypassed_pkts
    cdef public bint inspect
    cdef public int tcp_flags
    # Initial sequence numbers from the SYNs, when seen (None otherwise): reassembly starts from them.
    cdef public object isn_toserver
    cdef public object isn_toclient
    # Sequence number up to which a direction's payload is not wanted (a body nobody reads), or None.
    cdef public object skip_toserver
    cdef public object skip_toclient
    # Python-side state of the flow (reassembly, parsers): owned by the sink, opaque here.
    cdef public object state
    # Compiled HTTP framing (see _httpgate.pyx) while no detector needs this flow's messages, or None.
    cdef public HttpGate gate
    # Payload statistics (see _flowstats.pyx) of a TCP flow while the engine has a stats hook, else None.
    cdef public StatsAccumulator stats
    # The ServerHello and the shape of the client's first TLS records (_tlsrecords.pyx), while the engine's
    # tls_records is on.
    cdef public TlsRecords tls
    # A flow every worker follows (DNS, see Engine.replicated) that another worker owns: its events are
    # that worker's to report.
    cdef public bint foreign
    cdef bint client_is_lo
    cdef bytes key


cdef class Counters:
    """What the hot path saw and what it could not use: nothing is dropped without a count."""

    cdef public long long packets
    cdef public long long bytes
    cdef public long long truncated_packets
    cdef public long long bad_timestamps
    cdef public long long unsupported_linktype
    cdef public long long non_ip
    cdef public long long other_ip_proto
    cdef public long long ip_fragments
    cdef public long long ip_reassembled
    cdef public long long bad_ip_header
    cdef public long long flows_created
    cdef public long long flows_expired
    cdef public long long flows_evicted
    cdef public long long packets_inspected
    cdef public long long packets_bypassed
    cdef public long long packets_skipped
    cdef public long long packets_gated
    cdef public long long packets_other_workers

    def as_dict(self):
        return {name: getattr(self, name) for name in (
            "packets", "bytes", "bad_timestamps", "truncated_packets", "unsupported_linktype", "non_ip", "other_ip_proto",
            "ip_fragments", "ip_reassembled", "bad_ip_header", "flows_created", "flows_expired", "flows_evicted",
            "packets_inspected", "packets_bypassed", "packets_skipped", "packets_gated", "packets_other_workers")}


cdef class Engine:
    """Decode frames and track flows; calls `sink` for new flows, inspected segments and ended flows.

    The sink has: ip_fragment(ts, packet) -> whole datagram or None, flow_start(flow), tcp_segment(flow, ts, to_server, seq, flags, payload) (only for segments
    with payload: SYNs are recorded on the flow, FIN/RST end flows by timeout),
    udp_datagram(flow, ts, to_server, payload), flow_end(flow, reason); and for flows given an HTTP gate:
    gate_handover(flow, ts) (the Python side takes the flow over from the gate) and gate_bypass(flow).

    When `stats_hook` is set, every TCP flow (but those that open with an HTTP request: cleartext, read by
    the HTTP detectors) keeps payload statistics, inspected or bypassed, and the hook is called as
    hook(flow, None) at each checkpoint (see _flowstats.pyx) and hook(flow, reason) before flow_end; with a
    `stats_gate`, only at the checkpoints the gate wants (its accumulator's `mark` says which flows it
    follows), and never at the end.
    When `tls_records` is on, a TCP flow whose client opens with a TLS handshake record gets its ServerHello
    and the shape of the client's first records in flow.tls (see _tlsrecords.pyx), inspected or bypassed.
    """

    cdef dict flows
    cdef object sink
    cdef public Counters counters
    cdef public Counters shadow    # what this worker did for replicated flows another worker owns
    cdef Py_ssize_t wirelen    # of the frame being decoded
    cdef public double idle_timeout
    cdef public double closed_timeout
    cdef public Py_ssize_t max_flows
    # When given, a flow whose first payload is the client's whole HTTP request line gets an HTTP gate here,
    # with no call to the sink: the owner gives it only when the sink would do exactly that (see
    # flows/inspector.py, Inspector.engine_gate), and not while any of `gate_blockers` is non-empty.
    cdef public GateConfig first_request_gate
    cdef public tuple gate_blockers
    cdef public object stats_hook
    cdef public CheckpointGate stats_gate   # which checkpoints are reported to stats_hook (None: all, and ends)
    cdef public double stats_interval
    cdef public bint tls_records    # read what every TCP flow that opens with a TLS record shows in clear
    cdef public double now
    cdef double next_expiry
    cdef uint8_t keybuf[40]
    # Workers (scale/): this engine follows the flows whose address pair hashes to `bucket` of `buckets`
    # (every other packet still advances the clock and expiry, so flows end at the same packet as in one
    # process), plus flows with a port in `replicated` (a bit per port, zeroed at allocation; DNS: every
    # worker needs the names its flows were resolved from). `foreign` is true while the sink is called
    # for a replicated flow another worker owns; `ending` is the id of the flow being ended (0 outside
    # flow_end): where a worker's output goes in the merged order.
    cdef public int bucket
    cdef public int buckets
    cdef uint8_t replicated[8192]    # a bit per port
    cdef public bint foreign
    cdef public long long ending
    # Flow ids are packet numbers * id_stride + id_offset: live workers (which count only their own
    # packets) use stride N and their bucket, so ids stay unique among them.
    cdef public long long id_stride
    cdef public long long id_offset

    def __init__(self, sink, double idle_timeout=300.0, double closed_timeout=30.0, Py_ssize_t max_flows=500000,
                 GateConfig first_request_gate=None, tuple gate_blockers=()):
        self.flows = {}
        self.sink = sink
        self.counters = Counters()
        self.shadow = Counters()
        self.idle_timeout = idle_timeout
        self.closed_timeout = closed_timeout
        self.max_flows = max_flows
        self.first_request_gate = first_request_gate
        self.gate_blockers = gate_blockers
        self.stats_hook = None
        self.stats_gate = None
        self.stats_interval = 30.0
        self.now = 0.0
        self.next_expiry = 0.0
        self.bucket = 0
        self.buckets = 1
        self.foreign = False
        self.ending = 0
        self.id_stride = 1
        self.id_offset = 0

    def shard(self, int bucket, int buckets, replicated=()):
        """Follow only bucket `bucket` of `buckets` (address-pair hash), and every flow on a `replicated`
        port."""
        if not 0 <= bucket < buckets:
            raise ValueError(f"bucket {bucket} outside 0..{buckets - 1}")
        self.bucket = bucket
        self.buckets = buckets
        for port in replicated:
            self.replicated[<uint16_t>port >> 3] |= 1 << (<uint16_t>port & 7)

    @property
    def active_flows(self):
        return len(self.flows)

    # ---- link layer -------------------------------------------------------------------------------------

    cdef void frame(self, double ts, int linktype, const uint8_t* p, Py_ssize_t caplen, Py_ssize_t wirelen):
        cdef Py_ssize_t off = 0
        cdef uint16_t ethertype
        cdef uint32_t family
        self.counters.packets += 1
        self.counters.bytes += wirelen
        self.wirelen = wirelen
        if not (0.0 <= ts <= MAX_TIMESTAMP):   # a corrupt record: keep the capture's own clock
            self.counters.bad_timestamps += 1
            ts = self.now
        if ts > self.now:
            self.now = ts
            if ts >= self.next_expiry:
                self.expire(ts)
        if linktype == LT_ETHERNET:
            if caplen < 14:
                self.counters.truncated_packets += 1
                return
            ethertype = be16(p + 12)
            off = 14
            while ethertype == ETH_VLAN or ethertype == ETH_QINQ or ethertype == ETH_QINQ_OLD:
                if caplen < off + 4:
                    self.counters.truncated_packets += 1
                    return
                ethertype = be16(p + off + 2)
                off += 4
            if ethertype == ETH_PPPOE:
                if caplen < off + 8:
                    self.counters.truncated_packets += 1
                    return
                ethertype = be16(p + off + 6)   # PPP protocol: 0x0021 IPv4, 0x0057 IPv6
                off += 8
                if ethertype == 0x0021:
                    ethertype = ETH_IPV4
                elif ethertype == 0x0057:
                    ethertype = ETH_IPV6
            if ethertype == ETH_IPV4 or ethertype == ETH_IPV6:
                self.ip(ts, p + off, caplen - off)
            else:
                self.counters.non_ip += 1
        elif linktype == LT_RAW or linktype == LT_IPV4 or linktype == LT_IPV6 or linktype == LT_RAW_OPENBSD \
                or linktype == LT_RAW_ALT:
            self.ip(ts, p, caplen)
        elif linktype == LT_LINUX_SLL:
            if caplen < 16:
                self.counters.truncated_packets += 1
                return
            ethertype = be16(p + 14)
            if ethertype == ETH_IPV4 or ethertype == ETH_IPV6:
                self.ip(ts, p + 16, caplen - 16)
            else:
                self.counters.non_ip += 1
        elif linktype == LT_LINUX_SLL2:
            if caplen < 20:
                self.counters.truncated_packets += 1
                return
            ethertype = be16(p)
            if ethertype == ETH_IPV4 or ethertype == ETH_IPV6:
                self.ip(ts, p + 20, caplen - 20)
            else:
                self.counters.non_ip += 1
        elif linktype == LT_NULL or linktype == LT_LOOP:
            if caplen < 4:
                self.counters.truncated_packets += 1
                return
            # The family is in the capturing host's byte order (NULL) or network order (LOOP): the IP
            # version nibble tells IPv4 from IPv6 without knowing which.
            self.ip(ts, p + 4, caplen - 4)
        else:
            self.counters.unsupported_linktype += 1

    # ---- network layer ----------------------------------------------------------------------------------

    cdef void ip(self, double ts, const uint8_t* p, Py_ssize_t n):
        cdef int version, ihl, proto, total, nh, hlen
        cdef Py_ssize_t off
        if n < 1:
            self.counters.truncated_packets += 1
            return
        version = p[0] >> 4
        if version == 4:
            if n < 20:
                self.counters.truncated_packets += 1
                return
            ihl = (p[0] & 0x0F) * 4
            total = be16(p + 2)
            if ihl < 20 or total < ihl:
                self.counters.bad_ip_header += 1
                return
            if total < n:
                n = total    # drop link-layer padding
            if (be16(p + 6) & 0x3FFF) != 0:    # MF set or fragment offset: reassembled in Python (rare)
                self.fragment(ts, p, n)
                return
            if n < ihl:
                self.counters.truncated_packets += 1
                return
            self.transport(ts, 4, p[9], p + 12, p + 16, 4, p + ihl, n - ihl)
        elif version == 6:
            if n < 40:
                self.counters.truncated_packets += 1
                return
            total = be16(p + 4) + 40
            if total < n:
                n = total
            nh = p[6]
            off = 40
            # Skip extension headers: hop-by-hop, routing, destination options, AH; fragments are counted.
            while nh == 0 or nh == 43 or nh == 60 or nh == 51 or nh == 44:
                if n < off + 8:
                    self.counters.truncated_packets += 1
                    return
                if nh == 44:
                    self.fragment(ts, p, n)
                    return
                hlen = (p[off + 1] + 2) * 4 if nh == 51 else (p[off + 1] + 1) * 8
                nh = p[off]
                off += hlen
            if n < off:
                self.counters.truncated_packets += 1
                return
            self.transport(ts, 6, nh, p + 8, p + 24, 16, p + off, n - off)
        else:
            self.counters.bad_ip_header += 1

    cdef void fragment(self, double ts, const uint8_t* p, Py_ssize_t n):
        """Hand a fragment to the sink's defragmenter; a completed datagram is decoded like any packet."""
        cdef bytes datagram
        self.counters.ip_fragments += 1
        result = self.sink.ip_fragment(ts, PyBytes_FromStringAndSize(<char*>p, n))
        if result is not None:
            datagram = <bytes>result
            self.counters.ip_reassembled += 1
            self.ip(ts, <const uint8_t*><char*>datagram, len(datagram))

    # ---- transport layer and flow table -------------------------------------------------------------------

    cdef void transport(self, double ts, int version, int proto, const uint8_t* src, const uint8_t* dst,
                        int alen, const uint8_t* l4, Py_ssize_t n):
        cdef uint16_t sport, dport
        cdef int flags = 0
        cdef uint32_t seq = 0
        cdef Py_ssize_t hlen
        cdef bint src_is_lo
        cdef int cmp = 0, i
        cdef Flow flow
        cdef bint to_server
        cdef bytes key
        cdef object skip_until
        cdef uint32_t skip_seq
        cdef int verdict
        cdef bint foreign = False
        cdef Counters c
        if proto == 6:
            if n < 20:
                self.counters.truncated_packets += 1
                return
            hlen = (l4[12] >> 4) * 4
            if hlen < 20 or hlen > n:
                self.counters.truncated_packets += 1
                return
            flags = l4[13]
            seq = be32(l4 + 4)
        elif proto == 17:
            if n < 8:
                self.counters.truncated_packets += 1
                return
            hlen = 8
        else:
            self.counters.other_ip_proto += 1
            return
        sport = be16(l4)
        dport = be16(l4 + 2)
        if self.buckets > 1 and pair_hash(src, dst, alen) % <uint32_t>self.buckets != <uint32_t>self.bucket:
            if not (self.replicated[sport >> 3] >> (sport & 7)) & 1 \
                    and not (self.replicated[dport >> 3] >> (dport & 7)) & 1:
                self.counters.packets_other_workers += 1
                return
            foreign = True
            self.shadow.packets += 1
            self.shadow.bytes += self.wirelen
        c = self.shadow if foreign else self.counters    # a foreign flow is counted by its owner

        # Canonical key: protocol, lower (address, port) first, so both directions find one flow.
        for i in range(alen):
            if src[i] != dst[i]:
                cmp = -1 if src[i] < dst[i] else 1
                break
        if cmp == 0:
            cmp = -1 if sport <= dport else 1
        src_is_lo = cmp < 0
        self.keybuf[0] = <uint8_t>proto
        for i in range(alen):
            self.keybuf[1 + i] = src[i] if src_is_lo else dst[i]
            self.keybuf[1 + alen + i] = dst[i] if src_is_lo else src[i]
        i = 1 + 2 * alen
        self.keybuf[i] = (sport if src_is_lo else dport) >> 8
        self.keybuf[i + 1] = (sport if src_is_lo else dport) & 0xFF
        self.keybuf[i + 2] = (dport if src_is_lo else sport) >> 8
        self.keybuf[i + 3] = (dport if src_is_lo else sport) & 0xFF
        key = PyBytes_FromStringAndSize(<char*>self.keybuf, i + 4)

        flow = <Flow>self.flows.get(key)
        if flow is None:
            if len(self.flows) >= self.max_flows:
                self.evict()
            flow = Flow.__new__(Flow)
            flow.key = key
            # The number of the packet that opened the flow: unique, and the same in every worker.
            flow.flow_id = self.counters.packets * self.id_stride + self.id_offset
            flow.foreign = foreign
            flow.proto = proto
            flow.ip_version = version
            flow.first_ts = ts
            flow.inspect = True
            # A lone SYN+ACK means we missed the SYN: its sender is the server.
            if proto == 6 and (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK):
                flow.client_addr = PyBytes_FromStringAndSize(<char*>dst, alen)
                flow.server_addr = PyBytes_FromStringAndSize(<char*>src, alen)
                flow.client_port = dport
                flow.server_port = sport
                flow.client_is_lo = not src_is_lo
            else:
                flow.client_addr = PyBytes_FromStringAndSize(<char*>src, alen)
                flow.server_addr = PyBytes_FromStringAndSize(<char*>dst, alen)
                flow.client_port = sport
                flow.server_port = dport
                flow.client_is_lo = src_is_lo
            if proto == 6 and self.stats_hook is not None:
                flow.stats = StatsAccumulator(self.stats_interval)
            self.flows[key] = flow
            c.flows_created += 1
            self.foreign = foreign
            self.sink.flow_start(flow)

        to_server = src_is_lo == flow.client_is_lo
        self.foreign = foreign
        flow.last_ts = ts
        flow.tcp_flags |= flags
        if to_server:
            flow.pkts_toserver += 1
            flow.bytes_toserver += n
        else:
            flow.pkts_toclient += 1
            flow.bytes_toclient += n
        if flow.stats is not None and n > hlen:
            if (flow.stats.pkts[0] + flow.stats.pkts[1] == 0 and to_server
                    and request_line_start(l4 + hlen, n - hlen)):
                flow.stats = None
            elif flow.stats.add(ts, to_server, <int32_t>(n - hlen), (flags & TCP_PSH) != 0) and (
                    self.stats_gate is None or self.stats_gate.wants(
                        flow.stats, flow.tls, flow.last_ts - flow.first_ts, flow.pkts_toserver + flow.pkts_toclient)):
                self.stats_hook(flow, None)
        # After the checkpoint hook: a checkpoint taken at this segment sees the shape as it was before it.
        if self.tls_records and proto == 6 and n > hlen:
            if flow.tls is None:
                flow.tls = opening(to_server, seq, flags & TCP_SYN, flow.isn_toserver, l4 + hlen, n - hlen)
            elif not flow.tls.done:
                flow.tls.segment(to_server, seq, flags & TCP_SYN, flow.isn_toclient, l4 + hlen, n - hlen)
        if not flow.inspect:
            flow.bypassed_pkts += 1
            c.packets_bypassed += 1
            return
        if proto == 6:
            if flags & TCP_SYN:
                if to_server:
                    flow.isn_toserver = seq
                else:
                    flow.isn_toclient = seq
            if n > hlen:
                skip_until = flow.skip_toserver if to_server else flow.skip_toclient
                if skip_until is not None:
                    skip_seq = skip_until
                    if <int32_t>(seq + <uint32_t>(n - hlen) - skip_seq) <= 0:
                        c.packets_skipped += 1
                        return
                    if to_server:
                        flow.skip_toserver = None
                    else:
                        flow.skip_toclient = None
                if (flow.gate is None and flow.state is None and self.first_request_gate is not None
                        and to_server and not flags & TCP_SYN
                        and (flow.isn_toserver is None or <uint32_t>(<uint32_t>flow.isn_toserver + 1) == seq)
                        and request_line_start(l4 + hlen, n - hlen) and not self.gate_blocked()):
                    flow.gate = HttpGate(self.first_request_gate, seq, flow.isn_toclient)
                if flow.gate is not None:
                    verdict = flow.gate.segment(to_server, seq, flags, l4 + hlen, n - hlen)
                    if verdict == GATE_CONSUMED:
                        c.packets_gated += 1
                        return
                    if verdict == GATE_BYPASS:
                        c.packets_gated += 1
                        self.sink.gate_bypass(flow)
                        return
                    self.sink.gate_handover(flow, ts)
                    if verdict == GATE_HANDOVER:
                        c.packets_inspected += 1
                        return
                c.packets_inspected += 1
                self.sink.tcp_segment(flow, ts, to_server, seq, flags,
                                      PyBytes_FromStringAndSize(<char*>(l4 + hlen), n - hlen))
        elif n > hlen:
            c.packets_inspected += 1
            self.sink.udp_datagram(flow, ts, to_server, PyBytes_FromStringAndSize(<char*>(l4 + hlen), n - hlen))

    cdef bint gate_blocked(self):
        cdef object pending
        for pending in self.gate_blockers:
            if pending:
                return True
        return False

    # ---- expiry -----------------------------------------------------------------------------------------

    cdef void end(self, Flow flow, str reason):
        del self.flows[flow.key]
        self.ending = flow.flow_id
        self.foreign = flow.foreign
        if flow.stats is not None and self.stats_hook is not None and self.stats_gate is None:
            self.stats_hook(flow, reason)
        self.sink.flow_end(flow, reason)
        self.ending = 0
        self.foreign = False

    cdef void expire(self, double now):
        """End flows idle past their timeout; runs once per 10 s of capture time, O(active flows)."""
        cdef Flow flow
        cdef double limit
        self.next_expiry = now + 10.0
        done = []
        for flow in self.flows.values():
            limit = self.closed_timeout if flow.tcp_flags & (TCP_FIN | TCP_RST) else self.idle_timeout
            if now - flow.last_ts > limit:
                done.append(flow)
        for flow in done:
            (<Counters>(self.shadow if flow.foreign else self.counters)).flows_expired += 1
            self.end(flow, "timeout")

    cdef void evict(self):
        """The table is full: end the least recently seen tenth of the flows (counted), never grow."""
        cdef Flow flow
        victims = sorted(self.flows.values(), key=_last_seen)[: max(1, len(self.flows) // 10)]
        for flow in victims:
            (<Counters>(self.shadow if flow.foreign else self.counters)).flows_evicted += 1
            self.end(flow, "evicted")

    def finish(self):
        """End every remaining flow (end of input)."""
        cdef Flow flow
        for flow in list(self.flows.values()):
            self.end(flow, "end-of-capture")

    # ---- record walkers -----------------------------------------------------------------------------------

    def feed_pcap(self, const uint8_t[::1] buf, bint swapped, bint nanosecond, int linktype):
        """Process every complete pcap record in `buf`; returns (bytes consumed, error or None)."""
        cdef Py_ssize_t off = 0, size = buf.shape[0]
        cdef uint32_t caplen, wirelen
        cdef double ts, scale = 1e-9 if nanosecond else 1e-6
        cdef const uint8_t* p
        if size == 0:
            return 0, None
        p = &buf[0]
        while off + 16 <= size:
            caplen = rd32(p + off + 8, swapped)
            wirelen = rd32(p + off + 12, swapped)
            if caplen > MAX_RECORD:
                return off, f"corrupt record header: captured length {caplen}"
            if off + 16 + caplen > size:
                break
            ts = rd32(p + off, swapped) + rd32(p + off + 4, swapped) * scale
            self.frame(ts, linktype, p + off + 16, caplen, wirelen)
            off += 16 + caplen
        return off, None

    def feed_pcapng(self, const uint8_t[::1] buf, list interfaces, bint swapped):
        """Process complete pcapng blocks in `buf`.

        `interfaces` holds (linktype, ticks per second) per interface of the current section. Returns
        (bytes consumed, the type of the block that stopped the walk or 0, error or None): the caller parses
        section and interface blocks itself (rare) and calls again.
        """
        cdef Py_ssize_t off = 0, size = buf.shape[0]
        cdef uint32_t btype, blen, ifid, caplen, wirelen
        cdef uint64_t ticks
        cdef const uint8_t* p
        cdef const uint8_t* b
        if size == 0:
            return 0, 0, None
        p = &buf[0]
        while off + 12 <= size:
            b = p + off
            btype = rd32(b, swapped)
            blen = rd32(b + 4, swapped)
            if btype == 0x0A0D0D0A or btype == 1:
                return off, btype, None
            if blen < 12 or blen % 4 or blen > MAX_RECORD + 64:
                return off, 0, f"corrupt block header: block length {blen}"
            if off + blen > size:
                break
            if btype == 6 or btype == 2:        # enhanced packet block, obsolete packet block
                if blen < 32:
                    return off, 0, "corrupt packet block"
                if btype == 6:
                    ifid = rd32(b + 8, swapped)
                else:
                    ifid = rd16(b + 8, swapped)
                ticks = (<uint64_t>rd32(b + 12, swapped) << 32) | rd32(b + 16, swapped)
                caplen = rd32(b + 20, swapped)
                wirelen = rd32(b + 24, swapped)
                if caplen > blen - 32:
                    caplen = blen - 32
                if ifid >= <uint32_t>len(interfaces):
                    self.counters.unsupported_linktype += 1
                else:
                    linktype, rate = interfaces[ifid]
                    self.frame(<double>ticks / <double>rate, linktype, b + 28, caplen, wirelen)
            elif btype == 3:                    # simple packet block: interface 0, no timestamp
                wirelen = rd32(b + 8, swapped)
                caplen = blen - 16
                if wirelen < caplen:
                    caplen = wirelen
                if len(interfaces) == 0:
                    self.counters.unsupported_linktype += 1
                else:
                    self.frame(self.now, interfaces[0][0], b + 12, caplen, wirelen)
            off += blen
        return off, 0, None

    def feed_tpacket_block(self, uint8_t[::1] block, int linktype, bint skip_outgoing):
        """Process one block of an AF_PACKET TPACKET_V3 receive ring and hand it back to the kernel.

        Returns the number of packets in the block, or -1 when the kernel still owns it (nothing read).
        The timestamp is the kernel's, taken when the packet arrived. `skip_outgoing` drops frames the host
        sent, as libpcap does on loopback, where each packet is seen leaving and again arriving.
        """
        cdef Py_ssize_t size = block.shape[0], off, end
        cdef uint32_t count, i, snaplen, mac
        cdef uint64_t ns
        cdef uint8_t* b
        cdef const uint8_t* h
        if size < TP_BLOCK_HEADER:
            return -1
        b = &block[0]
        if (ne32(b + 8) & TP_STATUS_USER) == 0:
            return -1
        __sync_synchronize()    # read packets only after the status that says they are complete
        count = ne32(b + 12)
        end = ne32(b + 20)      # blk_len: bytes used in this block
        if end > size:
            end = size
        off = ne32(b + 16)      # offset_to_first_pkt
        for i in range(count):
            if off < TP_BLOCK_HEADER or off + TP_PACKET_HEADER > end:
                break
            h = b + off
            snaplen = ne32(h + 12)
            mac = (<const uint16_t*>(h + 24))[0]
            if off + mac + snaplen <= end and not (skip_outgoing and h[58] == PACKET_OUTGOING):
                # Nanoseconds to seconds as for a pcapng file's ticks: a replay gets the same doubles.
                ns = <uint64_t>ne32(h + 4) * 1000000000 + ne32(h + 8)
                self.frame(<double>ns / 1e9, linktype, h + mac, snaplen, ne32(h + 16))
            if ne32(h) == 0:    # tp_next_offset: the last packet of the block
                break
            off += ne32(h)
        __sync_synchronize()
        (<uint32_t*>(b + 8))[0] = TP_STATUS_KERNEL
        return count


cdef inline uint32_t pair_hash(const uint8_t* src, const uint8_t* dst, int alen) noexcept nogil:
    """A hash of the address pair that is the same both ways (FNV-1a of each address, combined by xor).

    The pair, not the 5-tuple: an FTP data connection and the fragments of a datagram (no ports) stay
    with the worker that follows their control connection or first fragment.
    """
    cdef uint32_t a = 2166136261, b = 2166136261
    cdef int i
    for i in range(alen):
        a = (a ^ src[i]) * 16777619
        b = (b ^ dst[i]) * 16777619
    a ^= b
    a ^= a >> 16
    a *= 0x45d9f3b
    a ^= a >> 16
    return a


def _last_seen(Flow flow):
    return flow.last_ts
