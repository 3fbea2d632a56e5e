"""The exchange: compose and send, the durable outbox, delivery to the peer, the inbox and receipts."""
