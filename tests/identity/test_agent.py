"""Every miner family from agent strings seen in their source or in captured sessions."""

import pytest

from minerwatch.identity.agent import FAMILIES, parse_agent

AGENTS = [
    ("XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.2.0", "xmrig", "6.21.0"),
    ("xmrig-proxy/6.19.0 (Linux x86_64) libuv/1.44.2 gcc/9.3.0", "xmrig-proxy", "6.19.0"),
    (
        "XMRig-NVIDIA/2.14.1 (Windows NT 10.0; Win64; x64) libuv/1.25.0 CUDA/10.0 msvc/2017",
        "xmrig-nvidia",
        "2.14.1",
    ),
    ("xmrig-cuda/6.17.0", "xmrig-nvidia", "6.17.0"),
    ("XMRig-AMD/2.14.1 (Linux x86_64) libuv/1.24.0 OpenCL/2.0 gcc/8.2.0", "xmrig-amd", "2.14.1"),
    ("xmr-stak-cpu/1.3.0-1.5.0", "xmr-stak-cpu", "1.3.0-1.5.0"),
    ("xmr-stak-amd/1.1.0-1.4.0", "xmr-stak-amd", "1.1.0-1.4.0"),
    ("xmr-stak-nvidia/1.1.1-1.4.0", "xmr-stak-nvidia", "1.1.1-1.4.0"),
    ("xmr-stak/2.1.0/31a078416042d5492540f4bdb1466a84b690430e/master/lin/cpu/monero/0", "xmr-stak", "2.1.0"),
    ("cgminer/4.10.0", "cgminer", "4.10.0"),
    ("bfgminer/5.5.0", "bfgminer", "5.5.0"),
    ("ccminer/2.3.1", "ccminer", "2.3.1"),
    ("cpuminer/2.5.1", "cpuminer", "2.5.1"),
    ("cpuminer-opt/3.8.8.1", "cpuminer-opt", "3.8.8.1"),
    ("cpuminer-multi/1.3.7", "cpuminer-multi", "1.3.7"),
    ("nheqminer/0.5c", "nheqminer", "0.5c"),
    ("equihashminer/1.0", "equihashminer", "1.0"),
    ("EWBF's Zcash CUDA miner. 0.3.4b", "ewbf", "0.3.4b"),
    ("ethminer 0.15.0", "ethminer", "0.15.0"),
    ("ethminer/0.19.0", "ethminer", "0.19.0"),
    ("Claymore's Dual Ethereum Miner v15.0", "claymore", "15.0"),
    ("t-rex/0.24.4", "t-rex", "0.24.4"),
    ("lolMiner 1.58", "lolminer", "1.58"),
    ("nbminer/40.0", "nbminer", "40.0"),
    ("SRBMiner-MULTI/2.4.6", "srbminer-multi", "2.4.6"),
    ("excavator/1.7.1", "nicehash-excavator", "1.7.1"),
    ("NiceHashMiner/3.0.6", "nicehash-miner", "3.0.6"),
    ("PhoenixMiner/4.7c", "phoenixminer", "4.7c"),
    ("GMiner/3.43", "gminer", "3.43"),
    ("teamredminer/0.10.8", "teamredminer", "0.10.8"),
]


@pytest.mark.parametrize(("agent", "family", "version"), AGENTS)
def test_families(agent: str, family: str, version: str) -> None:
    info = parse_agent(agent)
    assert (info.family, info.version) == (family, version)
    assert info.agent == agent


def test_every_family_is_exercised() -> None:
    assert {family.name for family in FAMILIES} <= {family for _, family, _ in AGENTS}


def test_xmrig_build_details() -> None:
    info = parse_agent("XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.2.0")
    assert (info.os, info.libuv, info.compiler, info.hardware) == (
        "Linux x86_64",
        "1.44.2",
        "gcc/11.2.0",
        "cpu",
    )
    gpu = parse_agent(AGENTS[2][0])
    assert (gpu.gpu_runtime, gpu.compiler, gpu.hardware) == ("CUDA/10.0", "msvc/2017", "gpu-nvidia")


def test_xmr_stak_os_from_path_fields() -> None:
    assert parse_agent(AGENTS[8][0]).os == "Linux"


@pytest.mark.parametrize("agent", ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.0", "", "ümlaut/1.0"])
def test_unknown_agents_kept_verbatim(agent: str) -> None:
    info = parse_agent(agent)
    assert (info.family, info.agent, info.version) == ("unknown", agent, None)


def test_overlong_agent_is_unknown_and_truncated() -> None:
    info = parse_agent("XMRig/6.21.0 " + "A" * 100_000)
    assert info.family == "unknown" and len(info.agent) <= 256
