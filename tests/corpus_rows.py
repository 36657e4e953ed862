"""The captures of ../shared/corpus/INDEX.md by class, named once for every corpus test."""

BENIGN = [
    "nDPI/ethereum.pcap",
    "nDPI/bitcoin.pcap",
    "nDPI/monero.pcap",
    "nDPI/nano.pcapng",
    "nDPI/jsonrpc.pcap",
    "peafowl/ethereum-js-http.pcap",
    "nDPI/NTPv4.pcap",
    "nDPI/443-curl.pcap",
    "nDPI/http.pcapng",
    "nDPI/dns.pcap",
]

MINING = [
    "nDPI/mining.pcapng",
    "nDPI/history/monero-mining.pcap",
    "nDPI/history/zcash.pcap",
    "DI-cryptominingdetection/eth-eu1.nanopool.org.pcapng",
    "DI-cryptominingdetection/pool.eth.pp.ua.pcapng",
    "DI-cryptominingdetection/xmr-eu1.nanopool.org.pcapng",
    "DI-cryptominingdetection/zec-eu.suprnova.cc.pcapng",
    "DI-cryptominingdetection/cgminer.s0.pcapng",
    "DI-cryptominingdetection/cgminer.s2.pcapng",
    "DI-cryptominingdetection/cgminer.g0.pcapng",
    "CryptominingDetector/e52b224/miner.pcap",
]
