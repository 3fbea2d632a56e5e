from accord.cli import main

# Guarded: a worker process (the STIX validator pool's) imports the main module again, and must not run the CLI.
if __name__ == "__main__":
    main()
