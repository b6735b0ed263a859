from paperidx.cli import main

main()
