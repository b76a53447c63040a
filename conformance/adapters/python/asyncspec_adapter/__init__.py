"""asyncspec's Python adapter: runs scenarios on a real event loop, reports traces.

Protocol (version 1), one JSON object per line:
  adapter -> oracle, once at start: {"hello": {"protocol": 1, "adapter": ..., "runtime": ...}}
  oracle -> adapter: {"id": ID, "scenario": {...}}
  adapter -> oracle: {"id": ID, "event": {...}} for each event, then
                     {"id": ID, "done": {"elapsed_s": ...}}  or  {"id": ID, "error": "..."}
The adapter's own diagnostics go to stderr. See docs/DESIGN.md.
"""

PROTOCOL = 1
