// The Flink streaming SQL subset pipec accepts. Syntax only: every name, type and rule is checked by the binder,
// so the grammar has no semantic predicates or actions.
grammar StreamSql;

statement
    : query SEMICOLON? EOF
    ;

query
    : (WITH namedQuery (COMMA namedQuery)*)? select
    ;

namedQuery
    : name=identifier AS LEFT_PAREN query RIGHT_PAREN
    ;

select
    : SELECT setQuantifier? selectItem (COMMA selectItem)*
      FROM tableReference
      (WHERE where=expression)?
      (GROUP BY groupItem (COMMA groupItem)*)?
      (HAVING having=expression)?
    ;

setQuantifier
    : DISTINCT
    | ALL
    ;

selectItem
    : ASTERISK                                   #selectAll
    | expression (AS? alias=identifier)?         #selectExpression
    ;

tableReference
    : qualifiedName (AS? alias=identifier)?                          #namedTable
    | LEFT_PAREN query RIGHT_PAREN (AS? alias=identifier)?           #derivedTable
    | TABLE LEFT_PAREN function=identifier LEFT_PAREN windowArgument (COMMA windowArgument)* RIGHT_PAREN RIGHT_PAREN
      (AS? alias=identifier)?                                        #windowTable
    ;

// An argument of a window table-valued function, positional or named (`SIZE => INTERVAL '1' MINUTE`).
windowArgument
    : (parameter=identifier ARROW)? windowArgumentValue
    ;

windowArgumentValue
    : TABLE qualifiedName                                    #tableArgument
    | DESCRIPTOR LEFT_PAREN qualifiedName RIGHT_PAREN        #descriptorArgument
    | expression                                             #valueArgument
    ;

groupItem
    : expression
    ;

expression
    : booleanExpression
    ;

booleanExpression
    : NOT booleanExpression                                         #logicalNot
    | predicated                                                    #predicatedExpression
    | left=booleanExpression op=AND right=booleanExpression   #logicalBinary
    | left=booleanExpression op=OR right=booleanExpression    #logicalBinary
    ;

predicated
    : valueExpression predicate?
    ;

predicate
    : NOT? BETWEEN lower=valueExpression AND upper=valueExpression             #betweenPredicate
    | NOT? IN LEFT_PAREN expression (COMMA expression)* RIGHT_PAREN            #inPredicate
    | NOT? LIKE pattern=valueExpression (ESCAPE escape=valueExpression)?       #likePredicate
    | IS NOT? NULL_KW                                                             #nullPredicate
    | IS NOT? booleanValue                                                     #booleanPredicate
    ;

valueExpression
    : primaryExpression                                                          #valueDefault
    | op=(MINUS | PLUS) valueExpression                                    #arithmeticUnary
    | left=valueExpression op=(ASTERISK | SLASH | PERCENT) right=valueExpression  #arithmeticBinary
    | left=valueExpression op=(PLUS | MINUS) right=valueExpression        #arithmeticBinary
    | left=valueExpression op=CONCAT right=valueExpression                #arithmeticBinary
    | left=valueExpression comparisonOperator right=valueExpression             #comparison
    ;

primaryExpression
    : NULL_KW                                                                       #nullLiteral
    | INTERVAL sign=(PLUS | MINUS)? STRING unit=identifier (TO toUnit=identifier)?  #intervalLiteral
    | TIMESTAMP STRING                                                          #timestampLiteral
    | number                                                                     #numericLiteral
    | booleanValue                                                               #booleanLiteral
    | STRING                                                                     #stringLiteral
    | CASE operand=expression? whenClause+ (ELSE elseExpression=expression)? END #caseExpression
    | CAST LEFT_PAREN expression AS dataType RIGHT_PAREN                         #cast
    | name=identifier LEFT_PAREN ASTERISK RIGHT_PAREN filterClause?              #starFunctionCall
    | name=identifier LEFT_PAREN trimSide=(BOTH | LEADING | TRAILING) characters=valueExpression? FROM
      operand=expression RIGHT_PAREN                                             #trimFunctionCall
    | name=identifier LEFT_PAREN first=valueExpression FROM second=expression (FOR third=expression)? RIGHT_PAREN  #fromFunctionCall
    | name=identifier LEFT_PAREN operand=expression TO unit=identifier RIGHT_PAREN  #toFunctionCall
    | name=identifier LEFT_PAREN first=valueExpression IN second=valueExpression RIGHT_PAREN  #inFunctionCall
    | name=identifier LEFT_PAREN (setQuantifier? expression (COMMA expression)*)? RIGHT_PAREN filterClause?  #functionCall
    | qualifiedName                                                              #columnReference
    | LEFT_PAREN expression RIGHT_PAREN                                          #parenthesizedExpression
    ;

// An aggregate's `FILTER (WHERE condition)`.
filterClause
    : FILTER LEFT_PAREN WHERE condition=expression RIGHT_PAREN
    ;

whenClause
    : WHEN condition=expression THEN result=expression
    ;

dataType
    : identifier (LEFT_PAREN INTEGER_VALUE (COMMA INTEGER_VALUE)? RIGHT_PAREN)?
    | TIMESTAMP (LEFT_PAREN INTEGER_VALUE RIGHT_PAREN)?
    | INTERVAL identifier
    ;

comparisonOperator
    : EQ | NEQ | LT | LTE | GT | GTE
    ;

booleanValue
    : TRUE_KW | FALSE_KW
    ;

number
    : INTEGER_VALUE      #integerLiteral
    | DECIMAL_VALUE      #decimalLiteral
    | DOUBLE_VALUE       #doubleLiteral
    ;

qualifiedName
    : identifier (DOT identifier)*
    ;

identifier
    : IDENTIFIER              #unquotedIdentifier
    | nonReserved             #nonReservedIdentifier
    | BACKQUOTED_IDENTIFIER   #backQuotedIdentifier
    | DOUBLE_QUOTED_IDENTIFIER #doubleQuotedIdentifier
    ;

// Keywords of the keyword call forms (TRIM(LEADING 'x' FROM s), SUBSTRING(s FROM 1 FOR 2), FLOOR(ts TO DAY)), FILTER
// (of `agg(x) FILTER (WHERE …)`), interval qualifiers (MINUTE TO SECOND), and TABLE and DESCRIPTOR of the window
// table-valued functions stay usable as names.
nonReserved
    : BOTH | DESCRIPTOR | FILTER | FOR | LEADING | TABLE | TO | TRAILING
    ;

// Keywords are case-insensitive. ORDER, LIMIT, JOIN, UNION, OVER, EXCEPT, INTERSECT, LATERAL, EXISTS, FETCH,
// OFFSET, ROLLUP, CUBE, GROUPING, MATCH_RECOGNIZE and UNNEST are reserved so that a query using them gets a clear
// "not supported" error naming the construct instead of being read as an alias. Function names (COUNT, HOP, TUMBLE, ...), type names and interval units are
// plain identifiers, resolved by the binder.
ALL: A L L;
AND: A N D;
AS: A S;
BETWEEN: B E T W E E N;
BOTH: B O T H;
BY: B Y;
CASE: C A S E;
CAST: C A S T;
DESCRIPTOR: D E S C R I P T O R;
DISTINCT: D I S T I N C T;
ELSE: E L S E;
END: E N D;
ESCAPE: E S C A P E;
FILTER: F I L T E R;
FALSE_KW: F A L S E;
FOR: F O R;
FROM: F R O M;
GROUP: G R O U P;
HAVING: H A V I N G;
IN: I N;
INTERVAL: I N T E R V A L;
JOIN: J O I N;
LEADING: L E A D I N G;
LIMIT: L I M I T;
ORDER: O R D E R;
OVER: O V E R;
UNION: U N I O N;
WITH: W I T H;
EXCEPT: E X C E P T;
INTERSECT: I N T E R S E C T;
LATERAL: L A T E R A L;
EXISTS: E X I S T S;
FETCH: F E T C H;
OFFSET: O F F S E T;
ROLLUP: R O L L U P;
CUBE: C U B E;
GROUPING: G R O U P I N G;
MATCH_RECOGNIZE: M A T C H '_' R E C O G N I Z E;
UNNEST: U N N E S T;
IS: I S;
LIKE: L I K E;
NOT: N O T;
NULL_KW: N U L L;
OR: O R;
SELECT: S E L E C T;
THEN: T H E N;
TO: T O;
TRAILING: T R A I L I N G;
TABLE: T A B L E;
TIMESTAMP: T I M E S T A M P;
TRUE_KW: T R U E;
WHEN: W H E N;
WHERE: W H E R E;

ARROW: '=>';
EQ: '=';
NEQ: '<>' | '!=';
LT: '<';
LTE: '<=';
GT: '>';
GTE: '>=';
PLUS: '+';
MINUS: '-';
ASTERISK: '*';
SLASH: '/';
PERCENT: '%';
CONCAT: '||';
COMMA: ',';
DOT: '.';
SEMICOLON: ';';
LEFT_PAREN: '(';
RIGHT_PAREN: ')';

STRING: '\'' ( ~'\'' | '\'\'' )* '\'';
INTEGER_VALUE: DIGIT+;
DECIMAL_VALUE: DIGIT+ '.' DIGIT* | '.' DIGIT+;
DOUBLE_VALUE: (DIGIT+ ('.' DIGIT*)? | '.' DIGIT+) EXPONENT;
IDENTIFIER: (LETTER | '_') (LETTER | DIGIT | '_')*;
BACKQUOTED_IDENTIFIER: '`' ( ~'`' | '``' )+ '`';
DOUBLE_QUOTED_IDENTIFIER: '"' ( ~'"' | '""' )+ '"';

SIMPLE_COMMENT: '--' ~[\r\n]* -> channel(HIDDEN);
BRACKETED_COMMENT: '/*' .*? '*/' -> channel(HIDDEN);
WS: [ \t\r\n\f]+ -> channel(HIDDEN);

// Anything else (an unterminated string, a stray character) becomes a token the parser rejects with a location.
UNTERMINATED_STRING: '\'' ( ~'\'' | '\'\'' )*;
UNRECOGNIZED: .;

fragment EXPONENT: [eE] [+-]? DIGIT+;
fragment DIGIT: [0-9];
fragment LETTER: [a-zA-Z];
fragment A: [aA]; fragment B: [bB]; fragment C: [cC]; fragment D: [dD]; fragment E: [eE]; fragment F: [fF];
fragment G: [gG]; fragment H: [hH]; fragment I: [iI]; fragment J: [jJ]; fragment K: [kK]; fragment L: [lL];
fragment M: [mM]; fragment N: [nN]; fragment O: [oO]; fragment P: [pP]; fragment Q: [qQ]; fragment R: [rR];
fragment S: [sS]; fragment T: [tT]; fragment U: [uU]; fragment V: [vV]; fragment W: [wW]; fragment X: [xX];
fragment Y: [yY]; fragment Z: [zZ];
