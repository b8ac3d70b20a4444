from trading_gate.cli import main

main()
