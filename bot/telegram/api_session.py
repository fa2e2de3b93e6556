"""The Bot API session the bot talks through: aiogram's own, made cheaper where a busy bot spends
its time (measured with bench/answers.py; the README's "The answer path").

- A request without a file goes as one JSON body. aiogram's form encodes each field apart, most of
  them JSON already, and cost three times as much to build.
- A message the bot sent or edited comes back as which message it was, without the text,
  keyboard and formatting it was sent with: the bot reads nothing else of it, and parsing those
  back into objects cost more than everything else about the call on our side.
- getUpdates' updates can be had as received (`updates_as_received`), for the poller to store as
  they came, as the webhook does: parsed into objects, they were dumped straight back to JSON.

Errors are aiogram's own: any answer that is not a success is read by aiogram, which raises what
it always raises (and RetryRequests acts on)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from itertools import chain
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import EditMessageText, GetUpdates, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup
from aiohttp import ClientError, ClientTimeout

from bot.telegram.session import response_type

JSON_BODY = {"Content-Type": "application/json"}
# What the bot reads of a message it sent or edited: which one it was (the rest of the answer
# repeats the request: its text, keyboard and formatting, and the bot as sender).
KEPT_FIELDS = ("message_id", "date", "chat")
SENT_MESSAGES = (SendMessage, EditMessageText)
# Objects that hold nothing aiogram has to prepare (a bot default, a file, a date): dumped as they
# are, which costs a quarter of preparing them value by value (a question's keyboard, every call).
PLAIN_OBJECTS = (InlineKeyboardMarkup,)

ReadAnswer = Callable[[Bot, TelegramMethod[Any], int, str], Any]


class BotApiSession(AiohttpSession):
    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        return cast(TelegramType, await self._request(bot, method, timeout, self._typed_result))

    async def updates_as_received(self, bot: Bot, method: GetUpdates) -> list[dict[str, Any]]:
        """getUpdates, through the session's middlewares as any call, its updates as JSON objects."""

        async def request(bot: Bot, method: TelegramMethod[Any]) -> Any:
            return await self._request(bot, method, None, self._updates)

        call = self.middleware.wrap_middlewares(request)
        return cast(list[dict[str, Any]], await call(bot, method))

    async def message_id(self, bot: Bot, method: SendMessage | EditMessageText) -> int | None:
        """Send or edit a message, through the session's middlewares as any call; which message it
        was is all the bot reads of the answer (None if the answer does not say)."""

        async def request(bot: Bot, method: TelegramMethod[Any]) -> Any:
            return await self._request(bot, method, None, self._message_id)

        call = self.middleware.wrap_middlewares(request)
        return cast(int | None, await call(bot, method))

    async def _request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None,
                       read: ReadAnswer) -> Any:
        body = self._json_body(bot, method)
        if body is None:  # a file to upload: aiogram's multipart form
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        limit = ClientTimeout(total=self.timeout if timeout is None else timeout)
        # As aiogram's own make_request, but for the body.
        try:
            async with session.post(url, data=body, headers=JSON_BODY, timeout=limit) as response:
                content = await response.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        return read(bot, method, response.status, content)

    def _json_body(self, bot: Bot, method: TelegramMethod[Any]) -> str | None:
        files: dict[str, Any] = {}
        # aiogram's own preparation of each value (bot defaults, enums, dates, objects), as one
        # JSON object; field by field, as dumping the whole method first cost as much again.
        fields = {}
        for name, value in chain(method.__dict__.items(), (method.__pydantic_extra__ or {}).items()):
            if value is None:
                continue  # most of a method's fields
            if isinstance(value, PLAIN_OBJECTS):
                prepared = value.model_dump(warnings=False, exclude_none=True)
            else:
                prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                fields[name] = prepared
        return None if files else self.json_dumps(fields)

    def _typed_result(self, bot: Bot, method: TelegramMethod[Any], status: int, content: str) -> Any:
        answer = self._success(status, content)
        if answer is None:
            return self.check_response(bot=bot, method=method, status_code=status, content=content).result
        result = answer.get("result")
        if isinstance(method, SENT_MESSAGES) and isinstance(result, dict):
            answer["result"] = {field: result[field] for field in KEPT_FIELDS if field in result}
        return response_type(method).model_validate(answer, context={"bot": bot}).result

    def _message_id(self, bot: Bot, method: TelegramMethod[Any], status: int, content: str) -> Any:
        answer = self._success(status, content)
        if answer is None:
            return self.check_response(bot=bot, method=method, status_code=status, content=content).result
        result = answer.get("result")
        found = result.get("message_id") if isinstance(result, dict) else None
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    def _updates(self, bot: Bot, method: TelegramMethod[Any], status: int, content: str) -> Any:
        answer = self._success(status, content)
        if answer is None or not isinstance(answer.get("result"), list):
            return self.check_response(bot=bot, method=method, status_code=status, content=content).result
        return answer["result"]

    def _success(self, status: int, content: str) -> dict[str, Any] | None:
        """The answer of a call that succeeded; None for any other, for aiogram to read and raise."""
        if not HTTPStatus.OK <= status <= HTTPStatus.IM_USED:
            return None
        try:
            answer = self.json_loads(content)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) and answer.get("ok") is True else None
