import sys

try:
    from archspec.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still loading
    sys.stderr.write("interrupted\n")
    sys.exit(130)

main()
