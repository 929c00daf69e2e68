from typing import Literal, cast

LogStream = Literal["stderr", "stdout"]

LOG_STREAM_VALUES: set[LogStream] = {
    "stderr",
    "stdout",
}


def check_log_stream(value: str) -> LogStream:
    if value in LOG_STREAM_VALUES:
        return cast(LogStream, value)
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_STREAM_VALUES!r}")
