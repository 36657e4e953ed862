/*
 * Cryptocurrency miners: XMRig and its forks, generic CPU/GPU miners, and their configuration files.
 * Written for minerwatch (see SOURCES.md). Meta keys read by minerwatch: sid, rev, classtype, severity
 * (1 highest .. 4), confidence (0-100), description, reference.
 */

private rule MINERWATCH_Executable
{
    condition:
        uint32(0) == 0x464c457f                                   // ELF
        or (uint16(0) == 0x5a4d and uint32(uint32(0x3c)) == 0x00004550)  // PE
        or uint32(0) == 0xfeedfacf or uint32(0) == 0xcffaedfe     // Mach-O 64-bit
        or uint32(0) == 0xfeedface or uint32(0) == 0xcefaedfe     // Mach-O 32-bit
}

rule MINERWATCH_XMRig_Binary : miner xmrig
{
    meta:
        description = "XMRig miner (or a fork keeping its name) in an executable"
        sid = 9100001
        rev = 1
        classtype = "coin-mining"
        severity = 1
        confidence = 90
        reference = "https://github.com/xmrig/xmrig/blob/master/src/config.json"
    strings:
        $brand1 = "XMRig" ascii wide
        $brand2 = "xmrig.com" ascii wide
        $brand3 = "xmrig-proxy" ascii wide
        $cfg1 = "donate-level" ascii wide
        $cfg2 = "donate-over-proxy" ascii wide
        $cfg3 = "randomx" ascii wide nocase
        $cfg4 = "stratum+tcp://" ascii wide
        $cfg5 = "rx/0" ascii wide
    condition:
        MINERWATCH_Executable and any of ($brand*) and 2 of ($cfg*)
}

rule MINERWATCH_Miner_Binary_Generic : miner
{
    meta:
        description = "Executable with the pool protocol and tuning strings of a CPU/GPU miner (renamed forks)"
        sid = 9100002
        rev = 1
        classtype = "coin-mining"
        severity = 2
        confidence = 75
        reference = "https://en.bitcoin.it/wiki/Stratum_mining_protocol"
    strings:
        $p1 = "stratum+tcp://" ascii wide
        $p2 = "stratum+ssl://" ascii wide
        $p3 = "mining.subscribe" ascii wide
        $p4 = "mining.authorize" ascii wide
        $p5 = "mining.submit" ascii wide
        $t1 = "donate-level" ascii wide
        $t2 = "randomx" ascii wide nocase
        $t3 = "cryptonight" ascii wide nocase
        $t4 = "huge-pages" ascii wide
        $t5 = "nicehash" ascii wide nocase
        $t6 = "hashrate" ascii wide nocase
    condition:
        MINERWATCH_Executable and 1 of ($p*) and 2 of ($t*) and not MINERWATCH_XMRig_Binary
}

rule MINERWATCH_XMRig_Config : miner config
{
    meta:
        description = "XMRig-style JSON configuration (donate-level and a pools list)"
        sid = 9100003
        rev = 1
        classtype = "coin-mining"
        severity = 2
        confidence = 85
        reference = "https://github.com/xmrig/xmrig/blob/master/src/config.json"
    strings:
        $donate = /"donate-level"\s*:/
        $pools = /"pools"\s*:\s*\[/
        $url = /"url"\s*:\s*"/
        $user = /"user"\s*:\s*"/
    condition:
        not MINERWATCH_Executable and filesize < 1MB and all of them
}

rule MINERWATCH_Pool_URL : miner
{
    meta:
        description = "Stratum pool URL inside a transferred file"
        sid = 9100004
        rev = 1
        classtype = "coin-mining"
        severity = 3
        confidence = 50
        reference = "https://en.bitcoin.it/wiki/Stratum_mining_protocol"
    strings:
        $url = /stratum[12]?\+(tcp|ssl|tls):\/\/[A-Za-z0-9.\-]{3,253}:[0-9]{2,5}/ ascii wide
    condition:
        $url and not (MINERWATCH_XMRig_Binary or MINERWATCH_Miner_Binary_Generic or MINERWATCH_XMRig_Config)
}
