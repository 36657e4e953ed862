"""Renderers of the one event stream: JSON lines, console. Adding one never touches detection."""
