from archspec.cli.main import main

main()
