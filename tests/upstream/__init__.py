"""Decision records: tests of what the libraries we build on do, which a design choice rests on."""
