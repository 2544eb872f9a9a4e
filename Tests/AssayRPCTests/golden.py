import struct
def varint(n):
    out=b''
    while True:
        b=n&0x7f; n>>=7
        if n: out+=bytes([b|0x80])
        else: out+=bytes([b]); return out
def field_varint(num,v): return varint(num<<3|0)+varint(v) if v else b''
def field_bytes(num,b): return varint(num<<3|2)+varint(len(b))+b if b else b''
def frame(t,flags,sid,body): return struct.pack('>IBBI',len(body),t,flags,sid)+body
preface=b'ASSAY\x00\x00\x01'
settings=field_varint(1,4194304)+field_varint(2,1024)+field_varint(3,1048576)+field_varint(4,8388608)
def callstart(m): return field_bytes(1,m.encode())
def echoreq(text=b'',repeat=0): return field_bytes(1,text)+field_varint(3,repeat)
def echoresp(text=b'',index=0): return field_bytes(1,text)+field_varint(3,index)
DATA,HEADERS,TRAILERS,SETTINGS=0,1,2,5
hs_c=preface+frame(SETTINGS,0,0,settings)
hs_s=preface+frame(SETTINGS,0,0,settings)
kinds={}
kinds['unary']=(frame(HEADERS,0,1,callstart('/assay.v1.Echo/Unary'))+frame(DATA,1,1,echoreq(b'hi')),
                frame(DATA,0,1,echoresp(b'hi'))+frame(TRAILERS,0,1,b''))
kinds['server']=(frame(HEADERS,0,1,callstart('/assay.v1.Echo/ServerStream'))+frame(DATA,1,1,echoreq(b'hi',2)),
                frame(DATA,0,1,echoresp(b'hi',0))+frame(DATA,0,1,echoresp(b'hi',1))+frame(TRAILERS,0,1,b''))
kinds['client']=(frame(HEADERS,0,1,callstart('/assay.v1.Echo/ClientStream'))+frame(DATA,0,1,echoreq(b'a'))+frame(DATA,0,1,echoreq(b'b'))+frame(DATA,3,1,b''),
                frame(DATA,0,1,echoresp(b'ab',2))+frame(TRAILERS,0,1,b''))
kinds['bidi']=(frame(HEADERS,0,1,callstart('/assay.v1.Echo/Bidirectional'))+frame(DATA,0,1,echoreq(b'x'))+frame(DATA,3,1,b''),
                frame(DATA,0,1,echoresp(b'x',0))+frame(TRAILERS,0,1,b''))
# Prints the golden bytes of GoldenBytesTests.swift from the rules of docs/protocol.md.
print('handshake', hs_c.hex())
for k,(c,s) in kinds.items(): print(k,'client',c.hex()); print(k,'server',s.hex())
