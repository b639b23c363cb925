"""Contact routing (CCAAS, issue 15). So far: IVR flows as versioned data, validated and interpreted (``ivr.py``);
queues, agents' presence and routing steps come next."""
