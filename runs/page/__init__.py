"""The browser page: the SolaraViz app, its offline front-end assets, and the server ``tokenmarket viz`` starts."""
