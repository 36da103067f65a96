"""``tripose label``: a local web app to label frames of one or several calibrated cameras.

- :mod:`.target`: what a TARGET is (DeepLabCut project, tripose session, frames folder);
- :mod:`.files`, :mod:`.store`: DeepLabCut label files, provenance, versions;
- :mod:`.geometry`: epipolar curves and triangulated proposals;
- :mod:`.server`: the Starlette app and ``run``; :mod:`.lock`: one app per TARGET.

The page itself is ``static/`` (plain HTML/JS, no build). See docs/labeling.md.
"""
