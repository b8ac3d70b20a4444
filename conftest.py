"""Repository-wide test settings (each package's own fixtures live beside its tests)."""

import os

from hypothesis import settings

# No per-example deadline: a loaded 2-core CI machine must not turn slowness into failures.
# In CI the examples are derandomized, so a red run replays the same way on a laptop.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")
