"""The wire format shared by terminal and HQ: canonical encoding, records, blocks, hashes; imports nothing of ours."""
