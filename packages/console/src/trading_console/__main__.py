from trading_console.cli import main

main()
