"""The file formats the tool reads (plan files, rule packs, `.compliance.yaml`) and the one way their errors are worded.

`format` compiles a Cerberus schema into a fast check (Cerberus explains the failures); `messages` turns those
failures into located messages; `plan`, `pack` and `config` are the three schemas; `jsonschema` exports the
plan format for editors.
"""
