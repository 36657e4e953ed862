"""Build the compiled hot path (Cython); everything else is declared in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension("minerwatch.decode._httpgate", ["src/minerwatch/decode/_httpgate.pyx"]),
            Extension("minerwatch.decode._flowstats", ["src/minerwatch/decode/_flowstats.pyx"]),
            Extension("minerwatch.decode._tlsrecords", ["src/minerwatch/decode/_tlsrecords.pyx"]),
            Extension("minerwatch.decode._fastpath", ["src/minerwatch/decode/_fastpath.pyx"]),
            Extension("minerwatch.protocols._dns", ["src/minerwatch/protocols/_dns.pyx"]),
            Extension("minerwatch.protocols._tls", ["src/minerwatch/protocols/_tls.pyx"]),
            Extension("minerwatch.protocols._ssh", ["src/minerwatch/protocols/_ssh.pyx"]),
            Extension("minerwatch.encrypted._forest", ["src/minerwatch/encrypted/_forest.pyx"]),
            Extension("minerwatch.encrypted._checkpoints", ["src/minerwatch/encrypted/_checkpoints.pyx"]),
            Extension("minerwatch.encrypted._fusion", ["src/minerwatch/encrypted/_fusion.pyx"]),
        ],
        include_path=["src"],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
    ),
)
