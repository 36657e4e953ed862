/*
 * Dropper scripts that install and start miners: download-and-run, competitor killing, hiding.
 * Written for minerwatch (see SOURCES.md). Same meta keys as miners.yar.
 */

rule MINERWATCH_Miner_Dropper_Script : dropper script
{
    meta:
        description = "Script that downloads a file, makes it executable and starts a miner"
        sid = 9100010
        rev = 1
        classtype = "trojan-activity"
        severity = 1
        confidence = 85
        reference = "https://www.trendmicro.com/en_us/research/20/i/the-evolution-of-malicious-shell-scripts.html"
    strings:
        $dl1 = /(curl|wget|tftp|busybox wget)\s/
        $dl2 = "/dev/tcp/"
        $x1 = "chmod +x"
        $x2 = "chmod 777"
        $x3 = "chmod 755"
        $m1 = "xmrig" nocase
        $m2 = /-o\s+stratum\+(tcp|ssl):\/\//
        $m3 = "--donate-level"
        $m4 = "minerd"
        $m5 = "cpuminer"
        $m6 = /-a\s+(cryptonight|rx\/0|randomx)/
    condition:
        filesize < 2MB and any of ($dl*) and any of ($x*) and any of ($m*)
}

rule MINERWATCH_Miner_Dropper_Competitor_Kill : dropper script
{
    meta:
        description = "Script that removes competing miners and security tools before installing its own"
        sid = 9100011
        rev = 1
        classtype = "trojan-activity"
        severity = 1
        confidence = 80
        reference = "https://unit42.paloaltonetworks.com/graboid-first-ever-cryptojacking-worm-found-in-images-on-docker-hub/"
    strings:
        $k1 = /pkill\s+-9?\s*-?f?\s*(xmrig|kinsing|kdevtmpfsi|minerd|cryptonight|xmr)/
        $k2 = /killall\s+-?9?\s*(xmrig|minerd|kinsing|kdevtmpfsi)/
        $k3 = /grep\s+(-v\s+grep\s*\|\s*grep\s+)?['"]?(xmrig|stratum|minerd|cryptonight)/
        $h1 = "nr_hugepages"
        $h2 = "/proc/sys/kernel/nmi_watchdog"
        $h3 = "chattr -i"
        $h4 = "crontab -r"
        $h5 = "aliyun"
        $h6 = "ufw disable"
        $h7 = "setenforce 0"
    condition:
        filesize < 2MB and any of ($k*) and 2 of ($h*)
}
