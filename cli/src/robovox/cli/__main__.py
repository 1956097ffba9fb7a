from robovox.cli.app import main

main()
