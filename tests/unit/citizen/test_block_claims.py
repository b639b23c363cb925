"""C360 block claims: two records of one block resolved at once cannot both commit decisions taken without
each other (issue 11, item 13). The heads' store is a fake of DynamoDB's conditional update: every condition
of a transaction holds, or nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from functions.citizen.service import BlockClaim, block_claims


@dataclass
class Heads:
    """Each block's head: how many records joined it. ``commit`` is all or nothing, as a transaction is."""

    counts: dict[str, int] = field(default_factory=dict)

    def read(self, keys: set[str]) -> dict[str, int | None]:
        return {key: self.counts.get(key) for key in keys}

    def commit(self, claims: tuple[BlockClaim, ...]) -> bool:
        if any(c.checked and self.counts.get(c.key) != c.seen for c in claims):
            return False
        for claim in claims:
            self.counts[claim.key] = self.counts.get(claim.key, 0) + 1
        return True


def test_a_new_record_claims_every_block_it_read_at_the_count_it_saw() -> None:
    # GIVEN a record that read its three blocks: one joined twice before, two that no record had joined
    read = {"email:ines@example.org": 2, "phone:+34600112233": None, "doc:12345678": None}

    # WHEN its claims are made
    claims = block_claims(set(read), read)

    # THEN each block is claimed, conditioned on the count seen (None: the head must not exist yet)
    assert claims == (
        BlockClaim("doc:12345678", checked=True, seen=None),
        BlockClaim("email:ines@example.org", checked=True, seen=2),
        BlockClaim("phone:+34600112233", checked=True, seen=None),
    )


def test_a_record_that_joins_without_comparing_bumps_only_the_blocks_it_joins() -> None:
    # GIVEN an update of a linked record whose new e-mail puts it in one new block (its link decided, no read)
    joined = {"email:new@example.org"}

    # WHEN its claims are made
    claims = block_claims(joined, None)

    # THEN that block's head is bumped without a condition: readers of the block conflict, it never does
    assert claims == (BlockClaim("email:new@example.org", checked=False),)
    assert block_claims(set(), None) == ()


def test_two_records_of_one_block_read_before_either_commits_the_second_is_decided_again() -> None:
    # GIVEN two records that share the e-mail block, both resolved before either commits
    heads = Heads()
    padron, deportes = {"email:x", "doc:1"}, {"email:x", "name:a"}
    read_padron, read_deportes = heads.read(padron), heads.read(deportes)

    # WHEN Deportes commits first, then the Padrón
    assert heads.commit(block_claims(deportes, read_deportes))
    lost = heads.commit(block_claims(padron, read_padron))

    # THEN the Padrón's commit is refused; read again (now seeing Deportes), it commits
    assert not lost
    assert heads.commit(block_claims(padron, heads.read(padron)))
    assert heads.counts == {"email:x": 2, "doc:1": 1, "name:a": 1}


def test_a_record_joining_without_comparing_cancels_a_concurrent_reader_of_its_block() -> None:
    # GIVEN a new record that read the e-mail block, and an update that joins that block before it commits
    heads = Heads({"email:x": 1})
    read = heads.read({"email:x"})
    assert heads.commit(block_claims({"email:x"}, None))

    # THEN the reader's commit is refused: it is decided again, on what the update wrote
    assert not heads.commit(block_claims({"email:x"}, read))


blocks = st.sets(st.sampled_from(["b1", "b2", "b3", "b4"]), min_size=1, max_size=3)


@given(
    records=st.lists(blocks, min_size=2, max_size=4),
    schedule=st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=16),
)
def test_every_commit_saw_every_earlier_record_of_its_blocks_in_any_interleaving(
    records: list[set[str]], schedule: list[int]
) -> None:
    # GIVEN records that each read their blocks, then try to commit (a refused commit reads again), with the
    # steps of the records interleaved in any order
    heads = Heads()
    reads: dict[int, tuple[dict[str, int | None], set[int]]] = {}  # record -> (counts read, records seen)
    committed: list[int] = []
    pending = list(range(len(records)))
    order = [i % len(records) for i in schedule] + [i for i in pending for _ in range(2 * len(records) + 2)]

    # WHEN the steps run: a record's first step reads, the next tries to commit
    for i in order:
        if i in committed:
            continue
        if i not in reads:
            reads[i] = (heads.read(records[i]), {j for j in committed if records[j] & records[i]})
            continue
        counts, seen = reads.pop(i)
        if heads.commit(block_claims(records[i], counts)):
            committed.append(i)
            # THEN a record commits only having seen every record of its blocks that committed before it
            assert seen == {j for j in committed[:-1] if records[j] & records[i]}

    # AND every record commits in the end
    assert sorted(committed) == list(range(len(records)))
