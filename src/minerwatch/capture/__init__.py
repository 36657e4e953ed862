"""Capture sources: pcap and pcapng files (optionally gzip-compressed) fed block by block to the engine."""

from minerwatch.capture.reader import CaptureStats, feed_capture

__all__ = ["CaptureStats", "feed_capture"]
