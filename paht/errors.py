"""Stable API error codes with their Vietnamese (first) and English messages."""
from __future__ import annotations

import json

MESSAGES: dict[str, tuple[int, str, str]] = {
    "INVALID_JSON": (400, "Dữ liệu gửi lên không phải JSON hợp lệ.", "The request body is not valid JSON."),
    "VALIDATION_FAILED": (422, "Thông tin phản ánh chưa hợp lệ, vui lòng kiểm tra các trường được nêu.",
                          "Some fields are invalid; see `fields`."),
    "MISSING_REPORT_PART": (400, "Thiếu phần dữ liệu 'report' (JSON) trong biểu mẫu gửi lên.",
                            "The multipart form has no 'report' JSON part."),
    "UNKNOWN_PACK": (422, "Quy chế (bộ quy tắc) không tồn tại trên hệ thống.", "Unknown rule pack."),
    "UNSUPPORTED_MEDIA": (415, "Tệp đính kèm không phải ảnh, video hoặc ghi âm được hỗ trợ.",
                          "An attached file is not a supported photo, video or audio file."),
    "EMPTY_UPLOAD": (400, "Tệp đính kèm rỗng.", "An attached file is empty."),
    "MEDIA_TOO_LARGE": (422, "Tệp đính kèm vượt quá dung lượng hoặc kích thước ảnh cho phép.",
                        "An attached file is over the size or pixel limit."),
    "INVALID_MEDIA": (422, "Tệp đính kèm bị hỏng hoặc không đọc được (ảnh, video, ghi âm không hợp lệ).",
                      "An attached file is damaged or cannot be decoded."),
    "PAYLOAD_TOO_LARGE": (413, "Dữ liệu gửi lên vượt quá giới hạn cho phép (dung lượng hoặc số tệp).",
                          "The request is over the size or part-count limit."),
    "RATE_LIMITED": (429, "Gửi quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests; retry later."),
    "ROUTE_NOT_FOUND": (404, "Địa chỉ không tồn tại.", "No such endpoint."),
    "METHOD_NOT_ALLOWED": (405, "Phương thức không được hỗ trợ cho địa chỉ này.",
                           "The method is not allowed on this endpoint."),
    "INVALID_RESULT_PHOTOS": (422, "Ảnh kết quả phải là tệp được tải lên cùng thao tác này.",
                              "Result photos must be files uploaded with this action."),
    "IDEMPOTENCY_CONFLICT": (422, "Mã Idempotency-Key đã được dùng cho một phản ánh khác.",
                             "The Idempotency-Key was already used for a different submission."),
    "INVALID_MULTIPART": (400, "Biểu mẫu gửi lên không đúng định dạng multipart/form-data.",
                          "The multipart body is malformed (e.g. no boundary)."),
    "INTERACTION_NOT_FOUND": (404, "Không tìm thấy tương tác này trong phản ánh.",
                              "No such interaction on this report."),
    "INTERACTION_LOCKED": (403, "Chức năng tương tác của người phản ánh đang bị khóa do tương tác vi phạm quy định.",
                           "The reporter's interactions are locked for violations."),
    "PROHIBITED_INTERACTION": (422, ("Nội dung tương tác có từ ngữ không chuẩn mực, thiếu tính xây dựng: tương tác "
                                     "không được ghi nhận và được tính là một lần vi phạm."),
                               "The message contains prohibited wording: it is refused and counted as a violation."),
    "BAD_REQUEST": (400, "Yêu cầu không hợp lệ.", "The request is malformed."),
    "DEAD_LETTER_NOT_FOUND": (404, "Không tìm thấy thông điệp lỗi.", "No such dead letter."),
    "UNSUPPORTED_CONTENT_TYPE": (415, "Định dạng yêu cầu không được hỗ trợ (cần multipart/form-data hoặc JSON).",
                                 "Unsupported request content type."),
    "NOT_FOUND": (404, "Không tìm thấy phản ánh.", "Report not found."),
    "INVALID_TOKEN": (403, "Mã theo dõi không đúng.", "The tracking token does not match."),
    "UNAUTHORIZED": (401, "Cần đăng nhập (mã truy cập) để thực hiện thao tác này.", "A valid bearer token is required."),
    "FORBIDDEN": (403, "Tài khoản không có quyền thực hiện thao tác này trên phản ánh này.",
                  "This account may not do this on this report."),
    "ACTION_NOT_ALLOWED": (409, "Thao tác không được phép ở trạng thái hiện tại của phản ánh.",
                           "The action is not allowed in the report's current state."),
    "AGREEMENT_PENDING": (409, ("Chưa được công khai: kết quả xử lý phải được Cơ quan được chỉ định phối hợp cho ý "
                                "kiến thống nhất trước khi công khai (Thừa Thiên Huế: Điều 16 khoản 4; Vĩnh Long: "
                                "Điều 17 khoản 4)."),
                          "Not yet: the designated agency must agree to the result before it is published."),
    "EXTENSION_TOO_LONG": (422, "Thời gian gia hạn vượt quá mức quy chế cho phép.",
                           "The extension is longer than the pack allows."),
    "UNKNOWN_ACTION": (404, "Thao tác không tồn tại.", "Unknown action."),
    "INVALID_RATING": (422, "Mức đánh giá không thuộc thang đánh giá của quy chế.",
                       "The rating level is not on the pack's scale."),
    "CLOCK_NOT_CONTROLLED": (409, "Đồng hồ hệ thống không ở chế độ điều khiển (chỉ dùng khi thử nghiệm).",
                             "The clock is not controlled (test mode only)."),
    "SERVICE_UNAVAILABLE": (503, "Hệ thống đang bận, vui lòng thử lại sau ít phút.",
                            "A service is unavailable; try again shortly."),
    "MEDIA_URL_REFUSED": (422, "Địa chỉ tệp đính kèm (media_url) không được phép: chỉ nhận http/https từ các máy chủ "
                               "được cho phép.", "The media_url is not allowed (http/https on an allowed host only)."),
    "MEDIA_URL_UNREACHABLE": (422, "Không tải được tệp đính kèm từ địa chỉ media_url.",
                              "The media_url could not be fetched."),
    "INTERNAL_ERROR": (500, "Lỗi hệ thống, vui lòng thử lại sau.", "Internal error; try again later."),
    "INVALID_API_KEY": (403, "Khóa truy cập (api_key) không đúng hoặc chưa được cung cấp.",
                        "The api_key is missing or not valid."),
    "UNKNOWN_JURISDICTION": (404, "Không tìm thấy đơn vị (jurisdiction_id) này trên hệ thống.",
                             "Unknown jurisdiction_id."),
    "UNKNOWN_SERVICE_CODE": (404, "Không tìm thấy lĩnh vực phản ánh (service_code) này.", "Unknown service_code."),
    "INVALID_SIGNATURE": (401, "Chữ ký của lời gọi không hợp lệ hoặc kênh chưa được cấu hình.",
                          "The call's signature is missing or wrong, or the channel is not configured."),
}


class ApiError(Exception):
    def __init__(self, code: str, fields: dict | None = None, detail: str | None = None,
                 retry_after: int | None = None):
        if code not in MESSAGES:
            raise KeyError(f"unknown API error code {code}")
        self.code = code
        self.status, self.message, self.message_en = MESSAGES[code]
        self.fields = fields or {}
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(f"{code}: {detail or self.message_en}")

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message, "message_en": self.message_en, "fields": self.fields}
        if self.detail:
            error["detail"] = self.detail
        return {"error": error}


class RpcApiError(Exception):
    """An ApiError as an RPC caller receives it. nameko serialises an exception as its class name (`exc_type`),
    its args (`exc_args`) and its text (`value`): each code has its own subclass, named by the code."""

    def __init__(self, code: str, message: str, message_en: str, fields: dict, detail: str = ""):
        super().__init__(code, message, message_en, fields, detail)
        self.code, self.message, self.message_en, self.fields, self.detail = code, message, message_en, fields, detail

    def __str__(self):   # nameko's `value`, all that a nameko caller's RemoteError shows: the fields too
        fields = f" {json.dumps(self.fields, ensure_ascii=False)}" if self.fields else ""
        return f"{self.message} ({self.message_en})" + (f": {self.detail}" if self.detail else "") + fields

    @classmethod
    def of(cls, error: ApiError) -> RpcApiError:
        kind = _KINDS.get(error.code)
        if kind is None:
            kind = _KINDS[error.code] = type(error.code, (cls,), {"__module__": __name__, "__qualname__": error.code})
        return kind(error.code, error.message, error.message_en, error.fields, error.detail or "")


_KINDS: dict[str, type[RpcApiError]] = {}


class Refused(Exception):
    """A deciding service's no to an action (handling's staff actions, rating's ratings and interactions), answered
    over RPC as `{"error": {"code", "detail", "fields"}}` and turned by intake into the ApiError of that code."""

    def __init__(self, code: str, detail: str = "", fields: dict | None = None):
        super().__init__(detail)
        self.code, self.detail, self.fields = code, detail, fields or {}

    def answer(self) -> dict:
        return {"error": {"code": self.code, "detail": self.detail, "fields": self.fields}}
