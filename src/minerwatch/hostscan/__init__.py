"""Host-side evidence of disk mining: Chia plot files, plotting in progress, farming config and binaries.

Independent of the network pipeline; its ``diskmining`` events join network incidents by host.
"""
