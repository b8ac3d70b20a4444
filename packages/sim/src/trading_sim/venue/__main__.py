"""`python -m trading_sim.venue`: see `trading_sim.venue.cli`."""

from trading_sim.venue.cli import main

raise SystemExit(main())
