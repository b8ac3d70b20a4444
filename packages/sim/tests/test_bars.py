"""Reading recorded candles, and the engine over a slice of real Coinbase BTC-USD minutes."""

import gzip
from decimal import Decimal
from pathlib import Path

import pytest

import trading_sim as s
from sim_stubs import D, seeded

NS = 10**9
HEADER = "ts,open,high,low,close,volume\n"


def _shared_data() -> Path | None:
    """../shared/data beside the repository (CI puts shared/ next to the checkout)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "coinbase"
        if candidate.is_dir():
            return candidate
    return None


def _write(tmp_path: Path, text: str, name: str = "X-USD_1m.csv.gz") -> Path:
    path = tmp_path / name
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def test_read_bars_when_valid_then_exact_decimals_and_closes_from_the_step(tmp_path: Path) -> None:
    """Prices keep their text exactly; close_ns is open + the file's smallest step."""
    path = _write(tmp_path, HEADER + "60,1.5,2.25,1.0,2.0,0.001\n120,2,2,2,2,0\n240,2,2,2,2,0\n")

    bars = s.read_bars(path, "BTC-USD")

    assert bars[0] == s.Bar(
        product_id="BTC-USD",
        open_ns=60 * NS,
        close_ns=120 * NS,
        open=D("1.5"),
        high=D("2.25"),
        low=D("1.0"),
        close=D("2.0"),
        volume=D("0.001"),
    )
    assert (bars[2].open_ns, bars[2].close_ns) == (240 * NS, 300 * NS)  # a gap stays a gap


def test_read_bars_when_one_row_then_close_only_with_granularity(tmp_path: Path) -> None:
    """One row has no step to infer from; granularity_s supplies it."""
    path = _write(tmp_path, HEADER + "60,1,1,1,1,1\n")

    assert s.read_bars(path, "BTC-USD")[0].close_ns is None
    assert s.read_bars(path, "BTC-USD", granularity_s=900)[0].close_ns == 960 * NS


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("ts,open,high,low,close\n", ":1: header", id="wrong_header"),
        pytest.param("", ":1: header", id="empty_file"),
        pytest.param(HEADER + "60,1,1,1,1\n", ":2: expected 6 fields", id="short_row"),
        pytest.param(HEADER + "6e1,1,1,1,1,1\n", ":2: ts", id="ts_not_integer"),
        pytest.param(HEADER + "60,1,1,1,1,1\n60,1,1,1,1,1\n", ":3: ts 60 not after", id="dup"),
        pytest.param(HEADER + "120,1,1,1,1,1\n60,1,1,1,1,1\n", ":3: ts 60", id="descending"),
        pytest.param(HEADER + "60,NaN,1,1,1,1\n", ":2: 'NaN'", id="nan"),
        pytest.param(HEADER + "60,1,1,1,1,-1\n", ":2: '-1'", id="negative"),
        pytest.param(HEADER + "60,1e2,1,1,1,1\n", ":2: '1e2'", id="exponent"),
        pytest.param(HEADER + "60,1,1,2,1,1\n", ":2: bad bar", id="low_above_high"),
    ],
)
def test_read_bars_when_malformed_then_error_names_the_line(
    tmp_path: Path, text: str, where: str
) -> None:
    """Any deviation from the format fails with the file and line number."""
    path = _write(tmp_path, text)

    with pytest.raises(s.BarFileError, match=where):
        s.read_bars(path, "BTC-USD")


REAL = "BTC-USD_1m_20201122-20201212.csv.gz"


@pytest.fixture(scope="module")
def real_bars() -> list[s.Bar]:
    data = _shared_data()
    if data is None or not (data / REAL).is_file():
        pytest.skip(f"shared/data/coinbase/{REAL} is not beside the repository")
    return s.read_bars(data / REAL, "BTC-USD")[:1_000]


def test_read_bars_when_real_file_then_minute_bars_in_order(real_bars: list[s.Bar]) -> None:
    """The real file reads strictly: the first bar as printed, minute steps."""
    first = real_bars[0]

    assert (first.open_ns, first.close, first.volume) == (
        1_606_070_760 * NS,
        D("18558.86"),
        D("8.7218477"),
    )
    assert all(b.close_ns == b.open_ns + 60 * NS for b in real_bars)


def test_engine_when_real_minutes_then_hand_checked_fills(real_bars: list[s.Bar]) -> None:
    """Over 1,000 real minutes: a market buy, a big resting bid and a stop, fill as computed.

    Checked by hand against the CSV (no spread or slippage, 10 % participation):
    - market buy 0.01 after bar 0 takes at its close 18558.86, fee 1.20 %.
    - bid 8 @ 18400.00: bar 338 (ts 1606091040) is the first with low < 18400
      (18356.78); 10 % of its volume 53.46347861 is 5.34634786 (rounded down); bar
      339 gives 1.12939773 (volume 11.29397737), bar 340 the last 1.52425441.
    - stop sell 0.5, down at 18300.00, limit 18250.00: bar 341 (open 18312.0, low
      18260.0) fires it at the stop, and it takes 0.5 at 18300.00 as taker.
    """
    config = s.EngineConfig(spread_bps=D(0))
    state = s.new_state(config, {"USD": D(200_000), "BTC": D(1)})
    rng = seeded(0)
    state, _ = s.on_bar(state, real_bars[0], rng)
    now = real_bars[0].end_ns
    orders = [
        s.SimOrder(
            order_id="m",
            client_order_id="m",
            product_id="BTC-USD",
            side=s.Side.BUY,
            kind=s.OrderKind.MARKET,
            size=D("0.01"),
            tif=s.TimeInForce.IOC,
            created_ns=now,
        ),
        s.SimOrder(
            order_id="bid",
            client_order_id="bid",
            product_id="BTC-USD",
            side=s.Side.BUY,
            kind=s.OrderKind.LIMIT,
            size=D(8),
            limit_price=D("18400.00"),
            tif=s.TimeInForce.GTC,
            created_ns=now,
        ),
        s.SimOrder(
            order_id="stop",
            client_order_id="stop",
            product_id="BTC-USD",
            side=s.Side.SELL,
            kind=s.OrderKind.STOP_LIMIT,
            size=D("0.5"),
            stop_price=D("18300.00"),
            stop_direction=s.StopDirection.DOWN,
            limit_price=D("18250.00"),
            tif=s.TimeInForce.GTC,
            created_ns=now,
        ),
    ]
    events: list[s.SimEvent] = []
    for o in orders:
        state, new = s.submit(state, o, now, rng)
        events += new
    for b in real_bars[1:]:
        state, new = s.on_bar(state, b, rng)
        events += new

    fills = [
        (e.fill.order_id, e.fill.size, e.fill.price, e.fill.liquidity, e.fill.ts_ns // NS)
        for e in events
        if isinstance(e, s.OrderFilled)
    ]
    assert fills == [
        ("m", D("0.01"), D("18558.86"), s.Liquidity.TAKER, 1_606_070_820),
        ("bid", D("5.34634786"), D("18400.00"), s.Liquidity.MAKER, 1_606_091_100),
        ("bid", D("1.12939773"), D("18400.00"), s.Liquidity.MAKER, 1_606_091_160),
        ("bid", D("1.52425441"), D("18400.00"), s.Liquidity.MAKER, 1_606_091_220),
        ("stop", D("0.5"), D("18300.00"), s.Liquidity.TAKER, 1_606_091_280),
    ]
    fees = {e.order.order_id: e.order.fees for e in events if isinstance(e, s.OrderFilled)}
    # 185.5886 * 1.2 %; 147200 * 0.6 % (rounded once per order); 9150 * 1.2 %
    assert fees == {"m": D("2.22706320"), "bid": D("883.20000000"), "stop": D("109.80000000")}
    balances = {b.currency: b.total for b in s.account_balances(state)}
    usd = (
        Decimal(200_000)
        - D("185.5886")
        - D("2.2270632")
        - 147_200
        - D("883.2")
        + 9_150
        - D("109.8")
    )
    assert balances == {"BTC": D("8.51"), "USD": usd}
