"""Miner identity from the agent string a miner sends (Stratum `mining.subscribe` params[0], xmrig-style
`login` params.agent, or an HTTP User-Agent).

Where the strings come from (read in each project's source or in captured sessions):
- xmrig `src/base/kernel/Platform.cpp` / older `src/net/Network_unix.cpp`: "XMRig/6.21.0 (Linux x86_64)
  libuv/1.44.2 gcc/11.2.0"; xmrig-nvidia/-amd forks append "CUDA/10.0" / "OpenCL/2.0".
- xmr-stak-cpu 1.x login template: agent "xmr-stak-cpu/1.3.0-1.5.0"; xmr-stak 2.x `version.hpp`
  get_version_str(): "xmr-stak/2.1.0/<commit>/master/lin/cpu/monero/0".
- cgminer/bfgminer `util.c` initiate_stratum(): PACKAGE "/" VERSION, e.g. "cgminer/4.10.0".
- cpuminer, cpuminer-multi, cpuminer-opt, ccminer `miner.h`: USER_AGENT PACKAGE_NAME "/" PACKAGE_VERSION.
- ethminer `EthStratumClient.cpp`: "ethminer 0.15.0" (EthereumStratum), later "ethminer/0.19.0".
- Captured subscribes: "PhoenixMiner/4.7c", "GMiner/3.43", "GMiner/2.00", "lolMiner 1.58",
  "teamredminer/0.10.8", "nbminer/40.0", "t-rex/0.24.4", "SRBMiner-MULTI/2.4.6", "excavator/1.7.1",
  "NiceHashMiner/3.0.6", "nheqminer/0.5c", EWBF "EWBF's Zcash CUDA miner" (banner; agent-less builds).
"""

import re
from dataclasses import dataclass

MAX_AGENT_LENGTH = 512
KEPT_AGENT_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Family:
    """One miner family: `pattern` finds its name token; `hardware` is what it mines with."""

    name: str
    pattern: str
    hardware: str


# Most specific names first: "xmrig-proxy" must win over "xmrig", "cpuminer-opt" over "cpuminer".
FAMILIES: tuple[Family, ...] = (
    Family("xmrig-proxy", r"xmrig-proxy", "proxy"),
    Family("xmrig-nvidia", r"xmrig-(?:nvidia|cuda)", "gpu-nvidia"),
    Family("xmrig-amd", r"xmrig-amd", "gpu-amd"),
    Family("xmrig", r"xmrig", "cpu"),
    Family("xmr-stak-cpu", r"xmr-stak-cpu", "cpu"),
    Family("xmr-stak-amd", r"xmr-stak-amd", "gpu-amd"),
    Family("xmr-stak-nvidia", r"xmr-stak-nvidia", "gpu-nvidia"),
    Family("xmr-stak", r"xmr-stak", "cpu-gpu"),
    Family("bfgminer", r"bfgminer", "asic-fpga"),
    Family("cgminer", r"cgminer", "asic-fpga"),
    Family("ccminer", r"ccminer", "gpu-nvidia"),
    Family("cpuminer-opt", r"cpuminer-opt", "cpu"),
    Family("cpuminer-multi", r"cpuminer-multi", "cpu"),
    Family("cpuminer", r"cpuminer|minerd", "cpu"),
    Family("nheqminer", r"nheqminer", "cpu-gpu"),
    Family("equihashminer", r"equihashminer", "gpu"),
    Family("ewbf", r"ewbf", "gpu-nvidia"),
    Family("ethminer", r"ethminer", "gpu"),
    Family("claymore", r"claymore", "gpu"),
    Family("t-rex", r"t-?rex", "gpu-nvidia"),
    Family("lolminer", r"lolminer", "gpu"),
    Family("nbminer", r"nbminer", "gpu"),
    Family("srbminer-multi", r"srbminer(?:-multi)?", "cpu-gpu"),
    Family("nicehash-excavator", r"excavator", "gpu"),
    Family("nicehash-miner", r"nicehash ?miner", "gpu"),
    Family("phoenixminer", r"phoenix ?miner", "gpu"),
    Family("gminer", r"gminer", "gpu"),
    Family("teamredminer", r"teamredminer", "gpu-amd"),
)

_FAMILY_RE = re.compile(
    "|".join(f"(?P<f{index}>(?<![a-z0-9])(?:{family.pattern}))" for index, family in enumerate(FAMILIES)),
    re.IGNORECASE,
)
# First dotted version after the family name: "/6.21.0", " 0.15.0", " v15.0", ". 0.3.4b", "/1.3.0-1.5.0".
_VERSION = re.compile(r"(?<![\w.])v?(\d{1,6}(?:\.\d{1,6})+[A-Za-z]?(?:-\d[\w.]{0,20})?)")
_COMPONENT = re.compile(r"\b(libuv|gcc|clang|msvc|CUDA|OpenCL)/([\w.\-]+)", re.IGNORECASE)
_PLATFORM = re.compile(r"\(([^()]{1,120})\)")
_XMR_STAK_OS = {"lin": "Linux", "win": "Windows", "mac": "macOS"}
_COMPILERS = ("gcc", "clang", "msvc")
_GPU_RUNTIMES = ("CUDA", "OpenCL")


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What a miner's agent string reveals. family is "unknown" when no known miner matches."""

    agent: str
    family: str
    version: str | None = None
    hardware: str | None = None
    os: str | None = None
    libuv: str | None = None
    compiler: str | None = None
    gpu_runtime: str | None = None


def _xmr_stak_os(agent: str) -> str | None:
    """xmr-stak 2.x agents are name/version/commit/branch/os/backends/coin/donation."""
    parts = agent.split("/")
    return _XMR_STAK_OS.get(parts[4]) if len(parts) > 4 else None


def parse_agent(agent: str) -> AgentInfo:
    """Identify the miner family, version, platform and build from an agent string. Never raises."""
    if not isinstance(agent, str):
        return AgentInfo("", "unknown")
    kept = agent[:KEPT_AGENT_LENGTH]
    if len(agent) > MAX_AGENT_LENGTH:
        return AgentInfo(kept, "unknown")
    match = _FAMILY_RE.search(agent)
    if match is None or match.lastgroup is None:
        return AgentInfo(kept, "unknown")
    family = FAMILIES[int(match.lastgroup[1:])]
    version_match = _VERSION.search(agent, match.end())
    components = {name.lower(): value for name, value in _COMPONENT.findall(agent)}
    compiler = next((f"{name}/{components[name]}" for name in _COMPILERS if name in components), None)
    gpu = next(
        (f"{name}/{components[name.lower()]}" for name in _GPU_RUNTIMES if name.lower() in components), None
    )
    platform = _PLATFORM.search(agent)
    os_name = platform.group(1) if platform else None
    if family.name.startswith("xmr-stak") and os_name is None:
        os_name = _xmr_stak_os(agent)
    return AgentInfo(
        kept,
        family.name,
        version=version_match.group(1) if version_match else None,
        hardware=family.hardware,
        os=os_name,
        libuv=components.get("libuv"),
        compiler=compiler,
        gpu_runtime=gpu,
    )
