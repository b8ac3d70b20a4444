from trading_agent.cli import main

main()
