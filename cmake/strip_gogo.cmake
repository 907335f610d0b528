# Copies a .proto, removing gogoproto / containerd fieldpath annotations.
#
# Usage: cmake -DIN=<src.proto> -DOUT=<dst.proto> -P strip_gogo.cmake
#
# Why: containerd's protos `import weak "gogoproto/gogo.proto"`, which Debian's protoc aborts on,
# and the annotations only steer Go code generation; they never change the wire format. We drop
#   - import lines of gogo.proto and fieldpath.proto (weak or not),
#   - `option (custom) = value;` statements at any level,
#   - bracketed field / enum-value options made only of custom options, e.g.
#     ` [(gogoproto.stdtime) = true, (gogoproto.nullable) = false]`.
# Everything else is kept byte-for-byte. Removed statements leave their newline behind so that
# protoc's error messages still point at the right line of the original file.
if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "strip_gogo.cmake: pass -DIN=<file> -DOUT=<file>")
endif()

file(READ "${IN}" text)

# A custom option: "(name)" "= value", value being a quoted string or a bare token.
set(value "(\"[^\"\n]*\"|[^][,;\"\n ()]+)")
set(custom "\\([^)\n]*\\)[ \t]*=[ \t]*${value}")

# import [weak|public] ".../gogo.proto"; and fieldpath.proto
string(REGEX REPLACE
  "[ \t]*import[ \t]+(weak[ \t]+|public[ \t]+)?\"([^\"\n]*/)?(gogo|fieldpath)\\.proto\"[ \t]*;[ \t]*"
  "" text "${text}")

# option (x.y) = value;
string(REGEX REPLACE "[ \t]*option[ \t]*${custom}[ \t]*;[ \t]*" "" text "${text}")

# [ (a) = 1, (b) = "c" ]  -- only when every entry is a custom option
string(REGEX REPLACE
  "[ \t]*\\[[ \t\n]*${custom}([ \t\n]*,[ \t\n]*${custom})*[ \t\n]*\\]"
  "" text "${text}")

file(WRITE "${OUT}" "${text}")
