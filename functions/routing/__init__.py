"""Contact routing (CCAAS, issue 15): IVR flows as versioned data, queues' routing steps with expiry, agents'
routing profiles and presence, contacts offered, accepted and ended, the offices' tickets and the statistics."""
